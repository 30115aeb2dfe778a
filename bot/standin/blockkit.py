"""Block Kit rules that Slack enforces on the blocks and views it is sent.

Written from Slack's reference, independent of `slack_sdk.models` on purpose: the fake
must reject what Slack rejects even when the code under test built its dicts by hand.
Each public function returns Slack's own error lines, such as
`must be less than 3001 characters [json-pointer:/blocks/3/text/text]`; the Web API
prefixes each with `[ERROR] ` in `response_metadata.messages`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

# Every limit the validator applies, with the page of Slack's reference that states it.
# Pages are under https://docs.slack.dev/reference/ .
LIMITS: Final[dict[str, int]] = {
    "message.blocks": 50,  # block-kit/blocks: "up to 50 blocks in each message"
    "view.blocks": 100,  # views/modal-views, views/home-tab-views: "Max of 100 blocks"
    "view.bytes": 250_000,  # methods/views.open etc.: view_too_large past 250 kB
    "message.text": 40_000,  # methods/chat.postMessage: text truncated past 40,000 characters
    "block_id": 255,  # block-kit/blocks/*: "Maximum length for this field is 255 characters"
    "action_id": 255,  # block-kit/block-elements/*: "Maximum length is 255 characters"
    "section.text": 3000,  # block-kit/blocks/section-block: text "max 3000 characters"
    "section.fields": 10,  # block-kit/blocks/section-block: "Maximum number of items is 10"
    "section.field": 2000,  # block-kit/blocks/section-block: each field "max 2000 characters"
    "header.text": 150,  # block-kit/blocks/header-block: "Maximum length ... is 150 characters"
    "context.elements": 10,  # block-kit/blocks/context-block: "Maximum number of items is 10"
    "actions.elements": 25,  # block-kit/blocks/actions-block: "maximum of 25 elements"
    "input.label": 2000,  # block-kit/blocks/input-block: label "Maximum length ... 2000"
    "input.hint": 2000,  # block-kit/blocks/input-block: hint "Maximum length ... 2000"
    "image.alt_text": 2000,  # block-kit/blocks/image-block: "Maximum length ... 2000"
    "image.title": 2000,  # block-kit/blocks/image-block: title "Maximum length ... 2000"
    "image.url": 3000,  # block-kit/blocks/image-block: image_url "Maximum length ... 3000"
    "markdown.text": 12_000,  # block-kit/blocks/markdown-block: "cumulative limit of 12,000"
    "button.text": 75,  # block-kit/block-elements/button-element: "Maximum length ... 75"
    "button.value": 2000,  # block-kit/block-elements/button-element: "Maximum length ... 2000"
    "button.url": 3000,  # block-kit/block-elements/button-element: "Maximum length ... 3000"
    "button.accessibility_label": 75,  # block-kit/block-elements/button-element
    "checkboxes.options": 10,  # block-kit/block-elements/checkboxes-element: "maximum of 10"
    "radio_buttons.options": 10,  # block-kit/block-elements/radio-button-group-element
    "static_select.options": 100,  # block-kit/block-elements/select-menu-element: "Maximum 100"
    "overflow.options": 5,  # block-kit/block-elements/overflow-menu-element: "Maximum 5"
    "placeholder": 150,  # block-kit/block-elements/*: placeholder "Maximum length ... 150"
    "plain_text_input.length": 3000,  # block-kit/block-elements/plain-text-input-element
    "option.text": 75,  # block-kit/composition-objects/option-object: text "Maximum ... 75"
    "option.value": 150,  # block-kit/composition-objects/option-object: value "Maximum ... 150"
    "option.description": 75,  # block-kit/composition-objects/option-object
    "confirm.title": 100,  # block-kit/composition-objects/confirmation-dialog-object
    "confirm.text": 300,  # block-kit/composition-objects/confirmation-dialog-object
    "confirm.button": 30,  # block-kit/composition-objects/confirmation-dialog-object
    "modal.title": 24,  # views/modal-views: title "Max length of 24 characters"
    "modal.button": 24,  # views/modal-views: submit and close "Max length of 24 characters"
    "view.private_metadata": 3000,  # views/modal-views: "Max length of 3000 characters"
    "view.callback_id": 255,  # views/modal-views: "Max length of 255 characters"
    "view.external_id": 255,  # methods/views.open: "max length of 255 characters"
}

# Fields each object may carry: Slack's schemas reject any other ("invalid additional property").
_FIELDS: Final[dict[str, frozenset[str]]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "section": "type block_id text fields accessory expand",
        "header": "type block_id text",
        "divider": "type block_id",
        "context": "type block_id elements",
        "actions": "type block_id elements",
        "input": "type block_id label element hint optional dispatch_action",
        "rich_text": "type block_id elements",
        "image": "type block_id image_url slack_file alt_text title",
        "markdown": "type block_id text",
        "button": "type text action_id url value style confirm accessibility_label",
        "checkboxes": "type action_id options initial_options confirm focus_on_load",
        "radio_buttons": "type action_id options initial_option confirm focus_on_load",
        "static_select": "type action_id options option_groups initial_option confirm"
        " focus_on_load placeholder",
        "overflow": "type action_id options confirm",
        "plain_text_input": "type action_id initial_value multiline min_length max_length"
        " dispatch_action_config focus_on_load placeholder",
        "image_element": "type image_url slack_file alt_text",
        "plain_text": "type text emoji",
        "mrkdwn": "type text verbatim",
        "option": "text value description url",
        "confirm": "title text confirm deny style",
        "modal": "type title blocks close submit private_metadata callback_id"
        " clear_on_close notify_on_close external_id submit_disabled",
        "home": "type blocks private_metadata callback_id external_id",
    }.items()
}

_MENUS: Final = (
    "static_select external_select users_select conversations_select channels_select"
    " multi_static_select multi_external_select multi_users_select"
    " multi_conversations_select multi_channels_select"
)
# Where each element may appear: block-kit/block-elements/*, "Works with block types".
_ACCESSORY: Final = frozenset(
    f"button checkboxes datepicker image overflow radio_buttons timepicker {_MENUS}".split()
)
_IN_ACTIONS: Final = frozenset(
    "button checkboxes datepicker datetimepicker overflow radio_buttons rich_text_input"
    f" timepicker workflow_button {_MENUS}".split()
)
_IN_INPUT: Final = frozenset(
    "checkboxes datepicker datetimepicker email_text_input file_input number_input"
    " plain_text_input radio_buttons rich_text_input timepicker url_text_input"
    f" {_MENUS}".split()
)


def message_errors(blocks: object) -> list[str]:
    """What Slack says about the `blocks` of chat.postMessage / chat.update / postEphemeral."""
    check = _Check("message")
    check.blocks(blocks, "/blocks", LIMITS["message.blocks"])
    return check.errors


def view_errors(view: object, *, expected_type: str) -> list[str]:
    """What Slack says about the `view` of views.open/push/update (modal) or publish (home)."""
    check = _Check(expected_type)
    path = "/view"
    if not isinstance(view, Mapping):
        check.fail(path, "must provide an object")
        return check.errors
    if view.get("type") != expected_type:
        check.fail(f"{path}/type", "must be a valid enum value")
    check.fields(view, expected_type, path)
    check.blocks(view.get("blocks"), f"{path}/blocks", LIMITS["view.blocks"])
    for key in ("private_metadata", "callback_id", "external_id"):
        if key in view:
            check.string(view[key], f"{path}/{key}", LIMITS[f"view.{key}"], allow_empty=True)
    if expected_type == "modal":
        check.text(view.get("title"), f"{path}/title", LIMITS["modal.title"], plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                check.text(view[key], f"{path}/{key}", LIMITS["modal.button"], plain=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            check.fail(path, "must provide submit when the view has an input block")
    if check.errors:
        check.errors.insert(0, f"failed to match all allowed schemas [json-pointer:{path}]")
    return check.errors


Block = Mapping[str, Any]


class _Check:
    """One validation pass: collects errors, and the ids that must be unique in it."""

    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []
        self._block_ids: set[str] = set()

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{path}]")

    def fields(self, obj: Block, kind: str, path: str) -> None:
        for key in obj:
            if key not in _FIELDS[kind]:
                self.fail(path, f"invalid additional property: {key}")

    def missing(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        self.fail(parent or "/", f"missing required field: {name}")

    def string(self, value: object, path: str, limit: int, *, allow_empty: bool = False) -> None:
        if value is None:
            self.missing(path)
        elif not isinstance(value, str):
            self.fail(path, "must provide a string")
        elif not value and not allow_empty:
            self.fail(path, "must be more than 0 characters")
        elif len(value) > limit:
            self.fail(path, f"must be less than {limit + 1} characters")

    def items(self, value: object, path: str, most: int, least: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, "must provide an array")
            return []
        if len(value) > most:
            self.fail(path, f"no more than {most} items allowed")
        if len(value) < least:
            self.fail(path, f"must provide at least {least} items")
        return value

    def text(self, obj: object, path: str, limit: int, *, plain: bool = False) -> None:
        """A text object; `plain` where Slack accepts only plain_text."""
        if obj is None:
            self.missing(path)
        elif not isinstance(obj, Mapping):
            self.fail(path, "must provide an object")
        else:
            self._text(obj, path, limit, plain=plain)

    def _text(self, obj: Block, path: str, limit: int, *, plain: bool) -> None:
        kind = obj.get("type")
        if kind not in ({"plain_text"} if plain else {"plain_text", "mrkdwn"}):
            self.fail(f"{path}/type", "must be a valid enum value")
            return
        self.fields(obj, kind, path)
        self.string(obj.get("text"), f"{path}/text", limit)

    def blocks(self, blocks: object, path: str, most: int) -> None:
        for index, block in enumerate(self.items(blocks, path, most, least=0)):
            self.block(block, f"{path}/{index}")

    def block(self, block: object, path: str) -> None:
        if not isinstance(block, Mapping):
            self.fail(path, "must provide an object")
            return
        kind = block.get("type")
        check = _BLOCKS.get(kind) if isinstance(kind, str) else None
        # markdown blocks are for messages only (block-kit/blocks/markdown-block).
        misplaced = kind == "markdown" and self.surface != "message"
        if not isinstance(kind, str) or check is None or misplaced:
            self.fail(f"{path}/type", "must be a valid enum value")
            return
        self.fields(block, kind, path)
        if "block_id" in block:
            block_id = block["block_id"]
            self.string(block_id, f"{path}/block_id", LIMITS["block_id"])
            if block_id in self._block_ids:
                self.fail(f"{path}/block_id", f"duplicate block_id: {block_id}")
            elif isinstance(block_id, str):
                self._block_ids.add(block_id)
        check(self, block, path)

    def elements(self, elements: list[Any], path: str, allowed: frozenset[str]) -> None:
        """Interactive elements of one block; their action_ids must differ within it."""
        action_ids: set[str] = set()
        for index, element in enumerate(elements):
            here = f"{path}/{index}"
            self.element(element, here, allowed)
            action_id = element.get("action_id") if isinstance(element, Mapping) else None
            if action_id in action_ids:
                self.fail(f"{here}/action_id", f"duplicate action_id: {action_id}")
            elif isinstance(action_id, str):
                action_ids.add(action_id)

    def element(self, element: object, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(element, Mapping):
            self.fail(path, "must provide an object")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"{path}/type", "must be a valid enum value")
            return
        if "action_id" in element:
            self.string(element["action_id"], f"{path}/action_id", LIMITS["action_id"])
        if "confirm" in element:
            self.confirm(element["confirm"], f"{path}/confirm")
        if "placeholder" in element:
            self.text(
                element["placeholder"], f"{path}/placeholder", LIMITS["placeholder"], plain=True
            )
        check = _ELEMENTS.get(kind)
        if check is not None:
            self.fields(element, "image_element" if kind == "image" else kind, path)
            check(self, element, path)

    def confirm(self, obj: object, path: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(path, "must provide an object")
            return
        self.fields(obj, "confirm", path)
        self.text(obj.get("title"), f"{path}/title", LIMITS["confirm.title"], plain=True)
        self.text(obj.get("text"), f"{path}/text", LIMITS["confirm.text"])
        for key in ("confirm", "deny"):
            self.text(obj.get(key), f"{path}/{key}", LIMITS["confirm.button"], plain=True)
        if obj.get("style", "primary") not in ("primary", "danger"):
            self.fail(f"{path}/style", "must be a valid enum value")

    def options(self, element: Block, path: str, most: int, *, mrkdwn: bool) -> None:
        """`options`, and `initial_option(s)` that must each equal one of them."""
        options = self.items(element.get("options"), f"{path}/options", most)
        for index, option in enumerate(options):
            self.option(option, f"{path}/options/{index}", mrkdwn=mrkdwn)
        initial = element.get("initial_options", [])
        if "initial_option" in element:
            initial, key = [element["initial_option"]], "initial_option"
        else:
            key = "initial_options"
        for index, chosen in enumerate(self.items(initial, f"{path}/{key}", most, least=0)):
            if not any(_same_option(chosen, option) for option in options):
                here = f"{path}/{key}" if key == "initial_option" else f"{path}/{key}/{index}"
                self.fail(here, "must match one of the provided options")

    def option(self, option: object, path: str, *, mrkdwn: bool) -> None:
        if not isinstance(option, Mapping):
            self.fail(path, "must provide an object")
            return
        self.fields(option, "option", path)
        self.text(option.get("text"), f"{path}/text", LIMITS["option.text"], plain=not mrkdwn)
        self.string(option.get("value"), f"{path}/value", LIMITS["option.value"])
        if "description" in option:
            limit = LIMITS["option.description"]
            self.text(option["description"], f"{path}/description", limit, plain=not mrkdwn)


def _same_option(a: object, b: object) -> bool:
    if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return False
    return a.get("value") == b.get("value") and a.get("text") == b.get("text")


def _section(check: _Check, block: Block, path: str) -> None:
    if "text" not in block and "fields" not in block:
        check.fail(path, "must provide either text or fields")
    if "text" in block:
        check.text(block["text"], f"{path}/text", LIMITS["section.text"])
    if "fields" in block:
        fields = check.items(block["fields"], f"{path}/fields", LIMITS["section.fields"])
        for index, field in enumerate(fields):
            check.text(field, f"{path}/fields/{index}", LIMITS["section.field"])
    if "accessory" in block:
        check.element(block["accessory"], f"{path}/accessory", _ACCESSORY)


def _header(check: _Check, block: Block, path: str) -> None:
    check.text(block.get("text"), f"{path}/text", LIMITS["header.text"], plain=True)


def _context(check: _Check, block: Block, path: str) -> None:
    elements = check.items(block.get("elements"), f"{path}/elements", LIMITS["context.elements"])
    for index, element in enumerate(elements):
        here = f"{path}/elements/{index}"
        if isinstance(element, Mapping) and element.get("type") == "image":
            check.element(element, here, frozenset({"image"}))
        else:
            check.text(element, here, LIMITS["section.text"])


def _actions(check: _Check, block: Block, path: str) -> None:
    here = f"{path}/elements"
    check.elements(
        check.items(block.get("elements"), here, LIMITS["actions.elements"]), here, _IN_ACTIONS
    )


def _input(check: _Check, block: Block, path: str) -> None:
    check.text(block.get("label"), f"{path}/label", LIMITS["input.label"], plain=True)
    if "hint" in block:
        check.text(block["hint"], f"{path}/hint", LIMITS["input.hint"], plain=True)
    if "element" not in block:
        check.missing(f"{path}/element")
    else:
        check.element(block["element"], f"{path}/element", _IN_INPUT)


def _rich_text(check: _Check, block: Block, path: str) -> None:
    """Only the shape: rich text elements are Slack's to render, not ours to check."""
    if "elements" not in block:
        check.missing(f"{path}/elements")
    elif not isinstance(block["elements"], list):
        check.fail(f"{path}/elements", "must provide an array")


def _image(check: _Check, block: Block, path: str) -> None:
    check.string(block.get("alt_text"), f"{path}/alt_text", LIMITS["image.alt_text"])
    if "slack_file" not in block:
        check.string(block.get("image_url"), f"{path}/image_url", LIMITS["image.url"])
    if "title" in block:
        check.text(block["title"], f"{path}/title", LIMITS["image.title"], plain=True)


def _markdown(check: _Check, block: Block, path: str) -> None:
    check.string(block.get("text"), f"{path}/text", LIMITS["markdown.text"])


def _button(check: _Check, element: Block, path: str) -> None:
    check.text(element.get("text"), f"{path}/text", LIMITS["button.text"], plain=True)
    for key in ("value", "url", "accessibility_label"):
        if key in element:
            check.string(element[key], f"{path}/{key}", LIMITS[f"button.{key}"])
    if element.get("style", "primary") not in ("primary", "danger"):
        check.fail(f"{path}/style", "must be a valid enum value")


def _choices(kind: str, *, mrkdwn: bool) -> Callable[[_Check, Block, str], None]:
    def check_choices(check: _Check, element: Block, path: str) -> None:
        if kind == "static_select" and "option_groups" in element:
            return
        check.options(element, path, LIMITS[f"{kind}.options"], mrkdwn=mrkdwn)

    return check_choices


def _plain_text_input(check: _Check, element: Block, path: str) -> None:
    limit = LIMITS["plain_text_input.length"]
    for key in ("min_length", "max_length"):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= limit):
            check.fail(f"{path}/{key}", f"must be an integer from 0 to {limit}")


def _image_element(check: _Check, element: Block, path: str) -> None:
    check.string(element.get("alt_text"), f"{path}/alt_text", LIMITS["image.alt_text"])
    if "slack_file" not in element:
        check.string(element.get("image_url"), f"{path}/image_url", LIMITS["image.url"])


_BLOCKS: Final[dict[str, Callable[[_Check, Block, str], None]]] = {
    "section": _section,
    "header": _header,
    "divider": lambda check, block, path: None,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "rich_text": _rich_text,
    "image": _image,
    "markdown": _markdown,
}
_ELEMENTS: Final[dict[str, Callable[[_Check, Block, str], None]]] = {
    "button": _button,
    "checkboxes": _choices("checkboxes", mrkdwn=True),
    "radio_buttons": _choices("radio_buttons", mrkdwn=True),
    "static_select": _choices("static_select", mrkdwn=False),
    "overflow": _choices("overflow", mrkdwn=False),
    "plain_text_input": _plain_text_input,
    "image": _image_element,
}
