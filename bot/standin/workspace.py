"""The fake Slack workspace: its people and channels, what was posted, which views are open.

Plain state with Slack's rules for it; the Web API fake (`slack_api.py`) holds the lock
around every use. Errors are `SlackError(code)` with Slack's own error codes.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

# The one workspace every fake and payload builder speaks for.
TEAM_ID: Final = "T0SCHEMA01"
TEAM_DOMAIN: Final = "schemabot-test"
APP_ID: Final = "A0SCHEMA01"
BOT_USER_ID: Final = "U0SCHEMBOT"
BOT_ID: Final = "B0SCHEMBOT"
BOT_TOKEN: Final = "xoxb-1000000001-2000000002-fakebottoken"
APP_TOKEN: Final = "xapp-1-A0SCHEMA01-3000000003-fakeapptoken"

JSON = dict[str, Any]


class SlackError(Exception):
    """A Web API refusal: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.body: JSON = {"ok": False, "error": code, **extra}
        if messages:
            self.body["response_metadata"] = {"messages": messages}


def missing(*names: str) -> SlackError:
    return SlackError("invalid_arguments", [f"[ERROR] missing required field: {n}" for n in names])


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    real_name: str = ""

    def as_slack(self) -> JSON:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": self.id == BOT_USER_ID,
            "tz": "Europe/London",
            "profile": {"email": self.email, "real_name": real_name, "display_name": self.name},
        }


@dataclass(frozen=True)
class Message:
    """A message as it stands now, top-level ones with their thread's replies."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str = BOT_USER_ID
    thread_ts: str | None = None
    replies: tuple[Message, ...] = ()
    reactions: tuple[str, ...] = ()
    edited_ts: str | None = None

    def as_slack(self) -> JSON:
        """The message object Slack puts in history and in interaction payloads."""
        body: JSON = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": TEAM_ID,
        }
        if self.user == BOT_USER_ID:
            body |= {"bot_id": BOT_ID, "app_id": APP_ID}
        if self.blocks:
            body["blocks"] = copy.deepcopy(self.blocks)
        if self.edited_ts:
            body["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            reacted = [BOT_USER_ID]
            body["reactions"] = [{"name": n, "users": reacted, "count": 1} for n in self.reactions]
        if self.replies:
            body |= {
                "thread_ts": self.ts,
                "reply_count": len(self.replies),
                "latest_reply": self.replies[-1].ts,
            }
        elif self.thread_ts:
            body["thread_ts"] = self.thread_ts
        return body


@dataclass(frozen=True)
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None


@dataclass(frozen=True)
class Hook:
    """Where a response_url leads: the channel and user of the interaction, and its message."""

    channel: str
    user: str
    message_ts: str | None = None
    created: float = 0.0
    """time.monotonic() when it was handed out."""


@dataclass
class _Posted:
    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None
    reactions: list[str] = field(default_factory=list)
    edited_ts: str | None = None


class Workspace:
    """Users, channels (with members), messages by channel and ts, views by id."""

    def __init__(self, first_ts: int = 1_700_000_000_000_100) -> None:
        self.users: dict[str, User] = {}
        self.members: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        self.posted: dict[str, dict[str, _Posted]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, JSON] = {}
        self.opened: list[JSON] = []
        self.pushed: list[JSON] = []
        self.home: dict[str, str] = {}
        self._micros = itertools.count(first_ts, 100)
        self._view_ids = itertools.count(1)
        self.add_user(User(BOT_USER_ID, "schemabot@bots.invalid", "schemabot"))

    def next_ts(self) -> str:
        """Unique and increasing, in Slack's "seconds.micros" form."""
        micros = next(self._micros)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def add_user(self, user: User) -> None:
        self.users[user.id] = user

    def add_channel(self, channel_id: str, members: list[str], name: str) -> None:
        self.members[channel_id] = list(members)
        self.names[name] = channel_id
        self.posted.setdefault(channel_id, {})

    def user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def user_by_email(self, email: str) -> User:
        for user in self.users.values():
            if user.email.lower() == email.lower():
                return user
        raise SlackError("users_not_found")

    def channel(self, ref: str) -> str:
        """A channel's id, from its id or its name (`#name` or `name`), as Slack accepts."""
        channel_id = ref if ref in self.members else self.names.get(ref.removeprefix("#"))
        if channel_id is None:
            raise SlackError("channel_not_found")
        return channel_id

    def post(self, channel_id: str, text: str, blocks: list[JSON], thread_ts: str | None) -> str:
        if BOT_USER_ID not in self.members[channel_id]:
            raise SlackError("not_in_channel")
        ts = self.next_ts()
        self.posted[channel_id][ts] = _Posted(channel_id, ts, text, with_ids(blocks), thread_ts)
        return ts

    def find(self, channel_id: str, ts: str) -> _Posted:
        if ts not in self.posted[channel_id]:
            raise SlackError("message_not_found")
        return self.posted[channel_id][ts]

    def update(self, channel_id: str, ts: str, text: str | None, blocks: list[JSON] | None) -> None:
        """Replace what is given; Slack keeps the text or blocks left out."""
        message = self.find(channel_id, ts)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = with_ids(blocks)
        message.edited_ts = self.next_ts()

    def delete(self, channel_id: str, ts: str) -> None:
        self.find(channel_id, ts)
        del self.posted[channel_id][ts]

    def react(self, channel_id: str, ts: str, name: str) -> None:
        message = self.find(channel_id, ts)
        if name in message.reactions:
            raise SlackError("already_reacted")
        message.reactions.append(name)

    def post_ephemeral(
        self,
        channel_id: str,
        user: str,
        text: str,
        blocks: list[JSON],
        thread_ts: str | None,
        *,
        member_only: bool = True,
    ) -> str:
        """`member_only`: chat.postEphemeral reaches channel members only; a response_url
        reaches the person who acted wherever they acted, member or not."""
        if user not in self.users:
            raise SlackError("user_not_found")
        if member_only and user not in self.members[channel_id]:
            raise SlackError("user_not_in_channel")
        ts = self.next_ts()
        self.ephemerals.append(Ephemeral(channel_id, user, ts, text, with_ids(blocks), thread_ts))
        return ts

    def messages(self, channel_id: str) -> list[Message]:
        """Top-level messages in order, each with its replies."""
        posted = self.posted[channel_id].values()
        tops = [p for p in posted if p.thread_ts is None]
        return [self._snapshot(p, [r for r in posted if r.thread_ts == p.ts]) for p in tops]

    def orphans(self, channel_id: str) -> list[Message]:
        """Replies whose thread_ts names no top-level message: Slack says ok, nobody sees them."""
        posted = self.posted[channel_id]
        return [
            self._snapshot(p, [])
            for p in posted.values()
            if p.thread_ts is not None
            and (p.thread_ts not in posted or posted[p.thread_ts].thread_ts is not None)
        ]

    def snapshot(self, channel_id: str, ts: str) -> Message:
        return self._snapshot(self.find(channel_id, ts), [])

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        for message in self.messages(channel_id):
            if message.ts == ts:
                return [message, *message.replies]
        raise SlackError("thread_not_found")

    def _snapshot(self, posted: _Posted, replies: list[_Posted]) -> Message:
        return Message(
            channel=posted.channel,
            ts=posted.ts,
            text=posted.text,
            blocks=copy.deepcopy(posted.blocks),
            thread_ts=posted.thread_ts,
            replies=tuple(self._snapshot(r, []) for r in replies),
            reactions=tuple(posted.reactions),
            edited_ts=posted.edited_ts,
        )

    def new_view(self, view: JSON, previous: JSON | None = None) -> JSON:
        """Store a view as Slack returns it: with id, hash, state and defaults filled in."""
        view_id = previous["id"] if previous else f"V{next(self._view_ids):09d}"
        stored: JSON = {
            "id": view_id,
            "team_id": TEAM_ID,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            **copy.deepcopy(view),
            "blocks": with_ids(view.get("blocks", [])),
            "hash": f"{self.next_ts()}.{secrets.token_hex(4)}",
        }
        self.views[view_id] = stored
        return copy.deepcopy(stored)

    def view(self, view_id: object, external_id: object) -> JSON:
        for view in self.views.values():
            if view["id"] == view_id or (external_id and view["external_id"] == external_id):
                return view
        raise SlackError("not_found")


_WITH_ACTION_ID: Final = ("accessory", "element")


def with_ids(blocks: list[JSON]) -> list[JSON]:
    """A copy with the block_id and action_id Slack generates where the sender gave none."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        block.setdefault("block_id", secrets.token_urlsafe(3))
        elements = [block[key] for key in _WITH_ACTION_ID if isinstance(block.get(key), dict)]
        if block.get("type") == "actions":
            elements += [e for e in block.get("elements", []) if isinstance(e, dict)]
        for element in elements:
            if element.get("type") != "image":
                element.setdefault("action_id", secrets.token_urlsafe(3))
    return filled
