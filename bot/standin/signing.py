"""What Slack sends an app: signed request headers and the payloads of its requests.

Each payload starts from a recorded example in `payloads/` (read them to see exactly
what Slack sends) and is filled in with the test's user, channel, message or view:

    body = slash_command_body(text="status 3f2a9c", response_url=fake.response_url())
    client.post("/slack/events", content=body, headers=sign(SECRET, body))

    card = fake.messages("C0REVIEW01")[0].as_slack()
    body = block_actions_body(button_click("approve", message=card, channel_id="C0REVIEW01"))
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

JSON = dict[str, Any]
PAYLOADS: Final = Path(__file__).with_name("payloads")


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for `body`, made at `timestamp` (default now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    return {
        "Content-Type": kind,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def new_trigger_id() -> str:
    """A trigger shaped like Slack's; its first part is the time, so FakeSlack can expire it."""
    return f"{int(time.time() * 1000)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


def slash_command(
    text: str = "",
    *,
    command: str = "/schema",
    user_id: str | None = None,
    user_name: str | None = None,
    channel_id: str | None = None,
    channel_name: str | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command (also the payload of a `slash_commands` envelope)."""
    recorded = (PAYLOADS / "payload_slash_command.urlencoded").read_text().strip()
    fields = dict(parse_qsl(recorded, keep_blank_values=True))
    given = {
        "command": command,
        "text": text,
        "user_id": user_id,
        "user_name": user_name or (user_id and user_id.lower()),
        "channel_id": channel_id,
        "channel_name": channel_name or (channel_id and channel_id.lower()),
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    fields.update({key: value for key, value in given.items() if value is not None})
    return fields


def slash_command_body(text: str = "", **fields: Any) -> str:
    """`slash_command(...)` as the form-encoded body Slack posts."""
    return urlencode(slash_command(text, **fields))


def button_click(
    action_id: str,
    *,
    message: Mapping[str, Any],
    channel_id: str,
    user_id: str | None = None,
    response_url: str | None = None,
) -> JSON:
    """A block_actions payload for a click on the message's button `action_id`."""
    payload = _block_actions("payload_block_actions_button.json", message, channel_id, user_id)
    block_id, button = _element(message.get("blocks", []), action_id, "button")
    action = {"action_id": action_id, "block_id": block_id, "text": button["text"]}
    action |= {key: button[key] for key in ("value", "style") if key in button}
    payload["actions"] = [action | {"type": "button", "action_ts": _action_ts()}]
    return _with_response_url(payload, response_url)


def checkboxes_change(
    action_id: str,
    selected: Sequence[str],
    *,
    message: Mapping[str, Any],
    channel_id: str,
    user_id: str | None = None,
    response_url: str | None = None,
) -> JSON:
    """A block_actions payload for the message's checkboxes `action_id` now ticked at `selected`."""
    payload = _block_actions("payload_block_actions_checkboxes.json", message, channel_id, user_id)
    block_id, checkboxes = _element(message.get("blocks", []), action_id, "checkboxes")
    options = _chosen(checkboxes, selected)
    payload["state"]["values"].setdefault(block_id, {})[action_id] = {
        "type": "checkboxes",
        "selected_options": options,
    }
    payload["actions"] = [
        {
            "type": "checkboxes",
            "action_id": action_id,
            "block_id": block_id,
            "selected_options": options,
            "action_ts": _action_ts(),
        }
    ]
    return _with_response_url(payload, response_url)


def block_actions_body(payload: Mapping[str, Any]) -> str:
    """An interaction payload as the form body Slack posts: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    view: Mapping[str, Any], values: Mapping[str, Any], *, user_id: str | None = None
) -> JSON:
    """A view_submission of the modal `view` (as FakeSlack opened it) with its inputs filled.

    `values` maps an input's block_id to what the user entered: a string for a text
    input, the chosen values for checkboxes, or Slack's own state object.
    """
    payload = _recorded("payload_view_submission.json")
    _set_user(payload, user_id)
    payload["trigger_id"] = new_trigger_id()
    state = _initial_state(view.get("blocks", []))
    for block_id, entered in values.items():
        block = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), None)
        if block is None or block.get("type") != "input":
            raise LookupError(f"the view has no input block {block_id!r}")
        element = block["element"]
        state.setdefault(block_id, {})[element["action_id"]] = _entered(element, entered)
    payload["view"] = payload["view"] | copy.deepcopy(dict(view)) | {"state": {"values": state}}
    return payload


def view_submission_body(
    view: Mapping[str, Any], values: Mapping[str, Any], *, user_id: str | None = None
) -> str:
    return block_actions_body(view_submission(view, values, user_id=user_id))


def app_home_opened(
    user_id: str | None = None, *, tab: str = "home", published: bool = False
) -> JSON:
    """The app_home_opened event of a user opening the app's Home tab.

    `published`: the user has a Home view already, which Slack sends along, its
    `state.values` an empty list rather than an object (as Slack has sent it).
    """
    event: JSON = _recorded("event_app_home_opened.json")["event"]
    event = event | {"tab": tab, "event_ts": _action_ts()} | ({"user": user_id} if user_id else {})
    if published:
        event["view"] = _recorded("event_app_home_opened_view.json")
    return event


def unfurled(message: Mapping[str, Any]) -> JSON:
    """`message` as Slack shows it once a link in it unfurled: with an attachment whose
    `id` is a number, as in every payload that carries the message."""
    unfurl: JSON = _recorded("message_attachment_unfurl.json")
    return copy.deepcopy(dict(message)) | {"attachments": [unfurl]}


def event_callback(event: Mapping[str, Any]) -> JSON:
    """The Events API envelope Slack wraps `event` in (also an `events_api` envelope's payload)."""
    payload = _recorded("event_app_home_opened.json")
    now = int(time.time())
    event_id = f"Ev{secrets.token_hex(5).upper()}"
    return payload | {"event": dict(event), "event_id": event_id, "event_time": now}


def event_callback_body(event: Mapping[str, Any]) -> str:
    """`event_callback(event)` as the JSON body Slack posts."""
    return json.dumps(event_callback(event))


def _recorded(name: str) -> JSON:
    payload: JSON = json.loads((PAYLOADS / name).read_text())
    return payload


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _set_user(payload: JSON, user_id: str | None) -> None:
    if user_id is not None:
        payload["user"] |= {"id": user_id, "username": user_id.lower(), "name": user_id.lower()}


def _block_actions(
    name: str, message: Mapping[str, Any], channel_id: str, user_id: str | None
) -> JSON:
    payload = _recorded(name)
    _set_user(payload, user_id)
    payload["trigger_id"] = new_trigger_id()
    payload["container"] |= {"message_ts": message["ts"], "channel_id": channel_id}
    payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    payload["message"] = copy.deepcopy(dict(message))
    payload["state"] = {"values": _initial_state(message.get("blocks", []))}
    return payload


def _with_response_url(payload: JSON, response_url: str | None) -> JSON:
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def _elements(blocks: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(block_id, element) for every interactive element, where Slack allows them."""
    for block in blocks:
        found = [block[key] for key in ("accessory", "element") if key in block]
        if block.get("type") == "actions":
            found += block.get("elements", [])
        for element in found:
            if "action_id" in element:
                yield block["block_id"], element


def _element(
    blocks: Sequence[Mapping[str, Any]], action_id: str, kind: str
) -> tuple[str, Mapping[str, Any]]:
    """The element a user can act on; a LookupError, as for a user, when there is none."""
    for block_id, element in _elements(blocks):
        if element["action_id"] == action_id and element.get("type") == kind:
            return block_id, element
    raise LookupError(f"the message has no {kind} with action_id {action_id!r}")


def _chosen(element: Mapping[str, Any], values: Sequence[str]) -> list[JSON]:
    options = {option["value"]: option for option in element.get("options", [])}
    unknown = [value for value in values if value not in options]
    if unknown:
        raise LookupError(f"no options {unknown} in {element['action_id']!r}")
    return [copy.deepcopy(options[value]) for value in values]


def _initial_state(blocks: Sequence[Mapping[str, Any]]) -> JSON:
    """state.values as Slack reports them for a surface nobody has touched yet."""
    values: JSON = {}
    for block_id, element in _elements(blocks):
        kind = element.get("type")
        if kind == "checkboxes":
            state = {"selected_options": element.get("initial_options", [])}
        elif kind in ("radio_buttons", "static_select"):
            state = {"selected_option": element.get("initial_option")}
        elif kind == "plain_text_input":
            state = {"value": element.get("initial_value")}
        else:
            continue
        values.setdefault(block_id, {})[element["action_id"]] = {"type": kind, **state}
    return values


def _entered(element: Mapping[str, Any], entered: Any) -> JSON:
    kind = element.get("type")
    if isinstance(entered, Mapping):
        return dict(entered)
    if kind == "checkboxes":
        return {"type": kind, "selected_options": _chosen(element, entered)}
    if kind in ("radio_buttons", "static_select"):
        return {"type": kind, "selected_option": _chosen(element, [entered])[0]}
    return {"type": kind, "value": entered}
