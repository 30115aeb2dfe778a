"""The HTTP way in for Slack requests: the signature checked before the body is read as
anything, and bodies that are not Slack payloads turned away before Bolt sees them.

Bolt parses a request before it checks the signature, and trusts the shape of what it
parsed: bytes that are not UTF-8, a form whose `payload` is not JSON, or a field of an
unexpected type made it answer 500 with a traceback in the log, signed or not. Here an
unsigned, forged or stale request gets 401 unread. A signed one is Slack's: the kinds
acknowledged at arrival (clicks, commands, events: `early_ack.py`) get their empty 200 at
once and their shape is checked after the ack, before Bolt sees them, a malformed one
dropped with a warning; any other kind (a modal's submission, whose ack may carry errors)
is checked first, and a body whose parts that Bolt or a listener reads are not shaped as
Slack sends them gets 400. Oddities in parts nobody reads go to Bolt as they came.

Why the shape waits for clicks: a click carries the whole card, URL-encoded, and decoding
and walking it took 0.4 ms of the one interpreter per 11.5 KiB click, more for fifty than
a bare server's whole burst. The signature alone takes 0.01 ms. What it costs: a signed
click of the wrong shape, which Slack does not send, is answered 200 and dropped instead
of 400; the clicker sees nothing happen either way, and the log says why.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WsgiApp = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]

# Slack's requests are a few kilobytes (a click carries the whole card); anything far
# bigger is not Slack, and is not read into memory.
MAX_BODY = 1024 * 1024

# Slack payloads hold these keys at whatever depth they appear, with values of these
# types; Bolt and the handlers read them without checking.
_OBJECT_LISTS = frozenset(
    {"actions", "authorizations", "initial_options", "options", "response_urls", "selected_options"}
)
_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(_OBJECT_LISTS, (list,)),
    **dict.fromkeys(
        (
            *("assistant_thread", "container", "event", "function_data", "item"),
            *("previous_message", "state", "submission", "values", "view"),
        ),
        (dict,),
    ),
    **dict.fromkeys(("channel", "enterprise", "message", "team", "user"), (dict, str, type(None))),
    "selected_option": (dict, type(None)),
    "value": (str, type(None)),
    "text": (dict, str),
    **dict.fromkeys(
        (
            *("action_id", "action_ts", "api_app_id", "block_id", "bot_access_token"),
            *("callback_id", "challenge", "command", "event_id", "function_execution_id"),
            *("hash", "id", "private_metadata", "response_url", "ssl_check", "token"),
            *("trigger_id", "type"),
        ),
        (str,),
    ),
    **dict.fromkeys(
        (
            *("channel_id", "context_enterprise_id", "context_team_id", "enterprise_id"),
            *("subtype", "team_id", "thread_ts", "user_id"),
        ),
        (str, type(None)),
    ),
}

# Parts of a payload that neither Bolt nor a listener reads, whose shape Slack varies:
# a message's attachments (an unfurl's `id` is a number) and the Home view that an
# app_home_opened event carries (its `state.values` has come as an empty list). They are
# not checked, so such a request is answered like any other.
_UNREAD_KEYS = frozenset({"attachments"})
_UNREAD_IN_EVENTS = frozenset({"view"})

# What Slack always sends with a payload of each type, and Bolt takes for granted.
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "block_actions": (("actions",), ("user", "id")),
    "view_submission": (
        ("view", "type"),
        ("view", "callback_id"),
        ("view", "state"),
        ("user", "id"),
    ),
    "view_closed": (("view", "type"), ("view", "callback_id"), ("user", "id")),
    "event_callback": (("event", "type"),),
    **dict.fromkeys(
        ("dialog_cancellation", "dialog_submission", "interactive_message", "message_action"),
        (("callback_id",),),
    ),
    **dict.fromkeys(("shortcut", "workflow_step_edit"), (("callback_id",),)),
    "block_suggestion": (("action_id",),),
}


def slack_door(
    bolt: WsgiApp,
    signing_secret: str,
    checked_after_ack: Callable[[str, str | None], bool] = lambda body, content_type: False,
) -> WsgiApp:
    """`bolt` behind the checks above, for `POST /slack/events`.

    `checked_after_ack(body, content_type)`: whether `bolt` acknowledges this request at
    arrival and checks its shape (`slack_payload`) after the ack itself."""
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def door(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", "malformed request")
        if length > MAX_BODY:
            return _answer(start_response, "413 Content Too Large", "request too large")
        body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
        if verifier is None or not _signed(verifier, body, environ):
            return _answer(start_response, "401 Unauthorized", "invalid request")
        # The signature check decoded it: a signed body is UTF-8.
        text, content_type = body.decode("utf-8"), environ.get("CONTENT_TYPE")
        if not checked_after_ack(text, content_type) and not slack_payload(text, content_type):
            log.warning("refused a signed request whose body is not a Slack payload")
            return _answer(start_response, "400 Bad Request", "malformed request")
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return bolt(environ, start_response)

    return door


def _signed(verifier: SignatureVerifier, body: bytes, environ: WSGIEnvironment) -> bool:
    try:
        return verifier.is_valid(
            body,
            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            environ.get("HTTP_X_SLACK_SIGNATURE"),
        )
    # A timestamp that is not a number, a signature that is not ASCII, a body that is not
    # UTF-8 (the verifier decodes it): none of them is Slack's.
    except (ValueError, TypeError):
        return False


def slack_payload(body: str, content_type: str | None) -> bool:
    """Whether Bolt will read `body` as a payload of the shape Slack sends."""
    try:
        payload = parse_body(body, content_type)
        return (
            isinstance(payload, dict)
            and bool(payload)
            and _shaped(_read_parts(payload))
            and _complete(payload)
        )
    except (ValueError, RecursionError):
        return False


def _read_parts(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the parts of an event nobody reads."""
    event = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(event, dict):
        return payload
    read = {key: value for key, value in event.items() if key not in _UNREAD_IN_EVENTS}
    return payload | {"event": read}


def _shaped(node: Any) -> bool:
    if isinstance(node, list):
        return all(_shaped(item) for item in node)
    if not isinstance(node, dict):
        return True
    for key, value in node.items():
        if key in _UNREAD_KEYS:
            continue
        expected = _TYPES.get(key)
        if expected is not None and not isinstance(value, expected):
            return False
        if key in _OBJECT_LISTS and not all(isinstance(item, dict) for item in value):
            return False
        if key == "actions" and not (value and all("action_id" in item for item in value)):
            return False
        if not _shaped(value):
            return False
    return True


def _complete(payload: dict[str, Any]) -> bool:
    for path in _REQUIRED.get(str(payload.get("type")), ()):
        node: Any = payload
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
    return True


def _answer(start_response: StartResponse, status: str, error: str) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [f'{{"error": "{error}"}}'.encode()]
