"""The Web API methods the fake answers, each checking its arguments as Slack does.

A method takes the workspace and the call's arguments and returns the body of Slack's
answer without `"ok": true`, or raises `SlackError` with Slack's error code.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Final

from bot.standin.blockkit import LIMITS, message_errors, view_errors
from bot.standin.workspace import (
    BOT_ID,
    BOT_USER_ID,
    JSON,
    TEAM_DOMAIN,
    TEAM_ID,
    Hook,
    SlackError,
    Workspace,
    missing,
)

Args = dict[str, Any]
Method = Callable[[Workspace, Args], JSON]

# Slack's triggers expire three seconds after the interaction (docs: interactivity, "trigger_id").
TRIGGER_TTL_SECONDS: Final = 3.0
# The payload builders make triggers shaped like Slack's, the first part the time in ms.
_TRIGGER: Final = re.compile(r"^(\d{13})\.\d+\.[0-9a-f]{32}$")

# The scope each method needs (docs: each method's "Required scopes").
SCOPES: Final[dict[str, str]] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.lookupByEmail": "users:read.email",
    "users.info": "users:read",
    "conversations.members": "channels:read",
    "conversations.info": "channels:read",
    "conversations.replies": "channels:history",
    "reactions.add": "reactions:write",
}


def required(args: Args, *names: str) -> None:
    absent = [name for name in names if args.get(name) in (None, "")]
    if absent:
        raise missing(*absent)


def decoded(args: Args, name: str, error: str) -> Any:
    """An argument sent as JSON in a form body, or as itself in a JSON body."""
    value = args.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise SlackError(error) from None


def content(args: Args, *, partial: bool = False) -> tuple[str | None, list[JSON] | None]:
    """The text and blocks of a message, checked; None where left out of a `partial` update."""
    if all(args.get(k) in (None, "") for k in ("text", "blocks", "attachments")):
        raise SlackError("no_text")
    text = args.get("text")
    if text is not None and len(str(text)) > LIMITS["message.text"]:
        raise SlackError("msg_too_long")
    blocks = decoded(args, "blocks", "invalid_blocks_format")
    if blocks is not None:
        errors = message_errors(blocks)
        if errors:
            raise SlackError("invalid_blocks", [f"[ERROR] {e}" for e in errors], errors=errors)
    if partial:
        return (None if text is None else str(text)), blocks
    return str(text or ""), blocks or []


def view_arg(args: Args, expected_type: str) -> JSON:
    view = decoded(args, "view", "invalid_arguments")
    # methods/views.open: "view_too_large": a view is at most 250 kB as sent.
    if len(json.dumps(view)) > LIMITS["view.bytes"]:
        raise SlackError("view_too_large")
    errors = view_errors(view, expected_type=expected_type)
    if errors:
        raise SlackError("invalid_arguments", [f"[ERROR] {e}" for e in errors])
    assert isinstance(view, dict)
    return view


def check_trigger(args: Args) -> None:
    match = _TRIGGER.match(str(args["trigger_id"]))
    if match is None:
        raise SlackError("invalid_arguments", ["invalid `trigger_id`"])
    if time.time() - int(match[1]) / 1000 > TRIGGER_TTL_SECONDS:
        raise SlackError("expired_trigger_id")


def auth_test(ws: Workspace, args: Args) -> JSON:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": "Schemabot Test",
        "user": "schemabot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, args: Args) -> JSON:
    required(args, "channel")
    channel = ws.channel(str(args["channel"]))
    text, blocks = content(args)
    thread_ts = args.get("thread_ts")
    # A float thread_ts loses digits; Slack takes it anyway and the reply is lost.
    ts = ws.post(channel, text or "", blocks or [], None if thread_ts is None else str(thread_ts))
    return {"channel": channel, "ts": ts, "message": ws.snapshot(channel, ts).as_slack()}


def chat_update(ws: Workspace, args: Args) -> JSON:
    required(args, "channel", "ts")
    channel, ts = ws.channel(str(args["channel"])), str(args["ts"])
    ws.find(channel, ts)
    text, blocks = content(args, partial=True)
    ws.update(channel, ts, text, blocks)
    message = ws.snapshot(channel, ts)
    return {"channel": channel, "ts": ts, "text": message.text, "message": message.as_slack()}


def chat_post_ephemeral(ws: Workspace, args: Args) -> JSON:
    required(args, "channel", "user")
    channel = ws.channel(str(args["channel"]))
    text, blocks = content(args)
    thread_ts = args.get("thread_ts")
    user = str(args["user"])
    ts = ws.post_ephemeral(channel, user, text or "", blocks or [], thread_ts and str(thread_ts))
    return {"message_ts": ts}


def chat_get_permalink(ws: Workspace, args: Args) -> JSON:
    required(args, "channel", "message_ts")
    channel, ts = ws.channel(str(args["channel"])), str(args["message_ts"])
    message = ws.find(channel, ts)
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if message.thread_ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": link}


def users_lookup_by_email(ws: Workspace, args: Args) -> JSON:
    required(args, "email")
    return {"user": ws.user_by_email(str(args["email"])).as_slack()}


def users_info(ws: Workspace, args: Args) -> JSON:
    required(args, "user")
    return {"user": ws.user(str(args["user"])).as_slack()}


def conversations_members(ws: Workspace, args: Args) -> JSON:
    required(args, "channel")
    members = ws.members[ws.channel(str(args["channel"]))]
    return {"members": list(members), "response_metadata": {"next_cursor": ""}}


def conversations_info(ws: Workspace, args: Args) -> JSON:
    required(args, "channel")
    channel = ws.channel(str(args["channel"]))
    name = next((name for name, known in ws.names.items() if known == channel), channel)
    return {
        "channel": {
            "id": channel,
            "name": name,
            "is_channel": True,
            "is_private": False,
            "is_member": BOT_USER_ID in ws.members[channel],
        }
    }


def conversations_replies(ws: Workspace, args: Args) -> JSON:
    required(args, "channel", "ts")
    thread = ws.thread(ws.channel(str(args["channel"])), str(args["ts"]))
    return {
        "messages": [m.as_slack() for m in thread],
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }


def reactions_add(ws: Workspace, args: Args) -> JSON:
    required(args, "channel", "timestamp", "name")
    name = str(args["name"])
    if ":" in name:
        raise SlackError("invalid_name")
    ws.react(ws.channel(str(args["channel"])), str(args["timestamp"]), name)
    return {}


def views_open(ws: Workspace, args: Args) -> JSON:
    required(args, "trigger_id", "view")
    check_trigger(args)
    view = ws.new_view(view_arg(args, "modal"))
    ws.opened.append(view)
    return {"view": view}


def views_push(ws: Workspace, args: Args) -> JSON:
    required(args, "trigger_id", "view")
    check_trigger(args)
    view = ws.new_view(view_arg(args, "modal"))
    ws.pushed.append(view)
    return {"view": view}


def views_update(ws: Workspace, args: Args) -> JSON:
    required(args, "view")
    if not (args.get("view_id") or args.get("external_id")):
        raise missing("view_id")
    previous = ws.view(args.get("view_id"), args.get("external_id"))
    if args.get("hash") and args["hash"] != previous["hash"]:
        raise SlackError("hash_conflict")
    return {"view": ws.new_view(view_arg(args, previous["type"]), previous)}


def views_publish(ws: Workspace, args: Args) -> JSON:
    required(args, "user_id", "view")
    user = ws.user(str(args["user_id"])).id
    previous = ws.views.get(ws.home.get(user, ""))
    if args.get("hash") and previous and args["hash"] != previous["hash"]:
        raise SlackError("hash_conflict")
    view = ws.new_view(view_arg(args, "home"), previous)
    ws.home[user] = view["id"]
    return {"view": view}


def respond(ws: Workspace, hook: Hook, body: Args) -> None:
    """A post to a response_url: replace or delete the original, or reply as asked."""
    if body.get("delete_original"):
        if hook.message_ts is None:
            raise SlackError("invalid_arguments", ["no original message to delete"])
        ws.delete(hook.channel, hook.message_ts)
        return
    text, blocks = content(body, partial=bool(body.get("replace_original")))
    if body.get("replace_original"):
        if hook.message_ts is None:
            raise SlackError("invalid_arguments", ["no original message to replace"])
        ws.update(hook.channel, hook.message_ts, text, blocks)
    elif body.get("response_type") == "in_channel":
        ws.post(hook.channel, text or "", blocks or [], body.get("thread_ts"))
    else:
        ws.post_ephemeral(
            hook.channel,
            hook.user,
            text or "",
            blocks or [],
            body.get("thread_ts"),
            member_only=False,
        )


METHODS: Final[dict[str, Method]] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "users.lookupByEmail": users_lookup_by_email,
    "users.info": users_info,
    "conversations.members": conversations_members,
    "conversations.info": conversations_info,
    "conversations.replies": conversations_replies,
    "reactions.add": reactions_add,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
