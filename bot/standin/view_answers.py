"""What Slack takes as the answer to a view_submission: the body of the ack (over HTTP) or
the ack's payload (in Socket Mode).

From docs.slack.dev, "Handling modal submissions" (surfaces/modals): an empty answer closes
the modal; otherwise `response_action` is `errors` (with `errors`: each key the block_id of
an input block of the submitted view, each value the message shown under it), `update` or
`push` (with a modal `view`), or `clear`. Slack refuses anything else, showing the person a
generic error in the modal instead of the app's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bot.standin.blockkit import view_errors

RESPONSE_ACTIONS: Final = frozenset({"errors", "update", "push", "clear"})


def submission_answer_errors(view: Mapping[str, Any], answer: object) -> list[str]:
    """Why Slack would not take `answer` to a submission of `view`; [] when it would."""
    if answer is None or answer == {}:
        return []
    if not isinstance(answer, Mapping):
        return ["the answer is not a JSON object"]
    action = answer.get("response_action")
    if action not in RESPONSE_ACTIONS:
        return [f"unknown response_action: {action!r}"]
    if action == "errors":
        return _errors_errors(view, answer.get("errors"))
    if action in {"update", "push"}:
        return view_errors(answer.get("view"), expected_type="modal")
    return []


def _errors_errors(view: Mapping[str, Any], errors: object) -> list[str]:
    if not isinstance(errors, Mapping) or not errors:
        return ["errors must be an object naming at least one input block"]
    inputs = {
        block.get("block_id")
        for block in view.get("blocks", [])
        if isinstance(block, Mapping) and block.get("type") == "input"
    }
    found = []
    for block_id, message in errors.items():
        if block_id not in inputs:
            found.append(f"errors names {block_id!r}, which is not an input block of the view")
        if not isinstance(message, str) or not message.strip():
            found.append(f"the error for {block_id!r} is not a message")
    return found
