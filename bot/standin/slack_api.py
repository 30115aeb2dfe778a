"""FakeSlack: a real HTTP server on 127.0.0.1 standing in for the Slack Web API.

    with FakeSlack() as fake:
        fake.add_user("U0ADA", "ada@example.com", "ada")
        fake.add_channel("C0REVIEW", members=["U0ADA"])
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        client.chat_postMessage(channel="C0REVIEW", text="hello")
        assert fake.messages("C0REVIEW")[0].text == "hello"

It checks tokens, arguments, channels, membership and Block Kit as Slack does, answers
with Slack's error codes, and records every call for assertions.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

from bot.standin.mrkdwn import LiveMarkup, RepositoryText
from bot.standin.view_answers import submission_answer_errors
from bot.standin.web_methods import METHODS, SCOPES, Args, respond
from bot.standin.workspace import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    JSON,
    Ephemeral,
    Hook,
    Message,
    SlackError,
    User,
    Workspace,
)

T = TypeVar("T")


class SocketServer(Protocol):
    """What apps.connections.open needs of the Socket Mode server: a fresh URL to dial."""

    def new_url(self) -> str: ...


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake saw and answered it."""

    method: str
    args: Args
    token: str | None
    status: int
    response: JSON

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


# A response_url takes five posts within thirty minutes of the interaction
# (docs.slack.dev, "Handling user interaction": response_url).
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None


class FakeSlack:
    """The Web API at `base_url`; see the module docstring."""

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        scopes: Iterable[str] | None = None,
        socket_server: SocketServer | None = None,
    ) -> None:
        """`scopes`: the bot's granted scopes; None grants every scope a method needs."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = frozenset(scopes if scopes is not None else [*SCOPES.values(), "commands"])
        self._socket_server = socket_server
        self._lock = threading.RLock()
        self._changed = threading.Condition()
        self._workspace = Workspace()
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._hooks: dict[str, Hook] = {}
        self._hook_uses: dict[str, list[float]] = {}
        self._expired_hooks: set[str] = set()
        self._repository_text = RepositoryText()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._reachable = threading.Event()
        self._reachable.set()

    def start(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The Web API root, for `WebClient(base_url=...)`."""
        return f"{self._root()}/api/"

    def response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A response_url for a payload from `user` in `channel` (about `message_ts`, if any).

        What the app posts to it is recorded as a `response_url` call and acted on as Slack
        does: an ephemeral reply by default, `in_channel`, `replace_original` or
        `delete_original`; five times within thirty minutes, then 404 `used_url` (or
        `expired_url`, as after `expire_response_urls()`).
        """
        hook_id = secrets.token_urlsafe(12)
        with self._lock:
            channel_id = self._workspace.channel(channel)
            self._hooks[hook_id] = Hook(channel_id, user, message_ts, time.monotonic())
        return f"{self._root()}/hooks/{hook_id}"

    def expire_response_urls(self) -> None:
        """Every response_url handed out so far expires, as Slack's do after thirty minutes."""
        with self._lock:
            self._expired_hooks.update(self._hooks)

    def _root(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def attach_socket_server(self, server: SocketServer) -> None:
        self._socket_server = server

    # -- the workspace ------------------------------------------------------------------

    def add_user(self, user_id: str, email: str, name: str, real_name: str = "") -> None:
        with self._lock:
            self._workspace.add_user(User(user_id, email, name, real_name))

    def add_channel(
        self,
        channel_id: str,
        members: Iterable[str] = (),
        *,
        name: str | None = None,
        bot_is_member: bool = True,
    ) -> None:
        """A channel with its members; the bot is one unless told otherwise, as after /invite."""
        people = [*members, *([BOT_USER_ID] if bot_is_member else [])]
        with self._lock:
            self._workspace.add_channel(channel_id, people, name or channel_id.lower())

    # -- what happened ------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """The channel's top-level messages as they stand now, with their threads' replies."""
        with self._lock:
            return self._workspace.messages(self._workspace.channel(channel))

    def orphans(self, channel: str) -> list[Message]:
        """Replies posted with a thread_ts that names no top-level message in the channel."""
        with self._lock:
            return self._workspace.orphans(self._workspace.channel(channel))

    def ephemerals(self, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return [e for e in self._workspace.ephemerals if user is None or e.user == user]

    @property
    def views_opened(self) -> list[JSON]:
        """Modals opened with views.open, as they were opened."""
        with self._lock:
            return copy.deepcopy(self._workspace.opened)

    @property
    def views_pushed(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._workspace.pushed)

    def view(self, view_id: str) -> JSON:
        """A view as it stands now, after any views.update."""
        with self._lock:
            return copy.deepcopy(self._workspace.view(view_id, None))

    @property
    def home_views(self) -> dict[str, JSON]:
        """Each user's published Home tab."""
        with self._lock:
            ws = self._workspace
            return {user: copy.deepcopy(ws.views[view_id]) for user, view_id in ws.home.items()}

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """The predicate's first truthy value, checked again after each call the fake answers."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                break
            with self._changed:
                self._changed.wait(min(remaining, 0.05))
        if not result:
            raise TimeoutError(f"still {result!r} after {timeout}s")
        return result

    # -- what came from the repository ---------------------------------------------------

    def from_repository(self, *texts: str) -> None:
        """Mark `texts` as written by whoever can push to the repository: from now on, any
        `<…>` of theirs that reaches Slack unescaped (a mention, a link) is recorded."""
        with self._lock:
            self._repository_text.mark(texts)

    def live_markup(self) -> list[LiveMarkup]:
        """Every place where marked text reached Slack as live markup; [] when none did."""
        with self._lock:
            return self._repository_text.found()

    # -- failure injection --------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure.

        Bare, it is Slack's rate limit: HTTP 429, `ratelimited`, `Retry-After: 1`.
        `status=500` gives `internal_error`; `error="..."` alone gives that error with HTTP 200.
        """
        status = status or (429 if error in (None, "ratelimited") else 200)
        default_error = "ratelimited" if status == 429 else "internal_error"
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            failures = self._failures.setdefault(method, [])
            failures += [_Failure(status, error or default_error, retry_after)] * times

    @contextmanager
    def out_of_reach(self) -> Iterator[None]:
        """Slack out of reach meanwhile: every connection is closed before it is answered,
        and nothing is recorded (Slack never heard of it)."""
        self._reachable.clear()
        try:
            yield
        finally:
            self._reachable.set()

    @property
    def reachable(self) -> bool:
        return self._reachable.is_set()

    # -- serving ------------------------------------------------------------------------

    def answer(
        self, method: str, args: Args, token: str | None
    ) -> tuple[int, JSON, dict[str, str]]:
        """Status, body and extra headers for one call; recorded before it is sent."""
        with self._lock:
            status, headers = 200, {}
            failures = self._failures.get(method)
            if failures:
                failure = failures.pop(0)
                status, body = failure.status, {"ok": False, "error": failure.error}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
            else:
                try:
                    body = {"ok": True, **self._dispatch(method, args, token)}
                except SlackError as refusal:
                    body = refusal.body
            if method == "auth.test" and body["ok"]:
                headers["x-oauth-scopes"] = ",".join(sorted(self.scopes))
            if body["ok"]:
                self._repository_text.inspect(method, args)
            self._record(Call(method, args, token, status, body))
        return status, body, headers

    def answer_hook(self, hook_id: str, args: Args) -> tuple[int, JSON, dict[str, str]]:
        """A post to a response_url; recorded as a call of the method `response_url`."""
        with self._lock:
            hook = self._hooks.get(hook_id)
            status, body = (200, {"ok": True}) if hook else (404, {"ok": False, "error": "no_hook"})
            if hook is not None:
                uses = self._hook_uses.setdefault(hook_id, [])
                expired = time.monotonic() - hook.created > RESPONSE_URL_SECONDS
                if expired or hook_id in self._expired_hooks:
                    status, body = 404, {"ok": False, "error": "expired_url"}
                elif len(uses) >= RESPONSE_URL_USES:
                    status, body = 404, {"ok": False, "error": "used_url"}
                else:
                    uses.append(time.monotonic())
                    try:
                        respond(self._workspace, hook, args)
                    except SlackError as refusal:
                        status, body = 400, refusal.body
            if status == 200:
                self._repository_text.inspect("response_url", args)
            self._record(Call("response_url", args, None, status, body))
        return status, body, {}

    def view_submission_answered(self, view: JSON, answer: object) -> Call:
        """Slack reading the app's answer to a submission of `view` (as the payload carried
        it): recorded as a call of the method `view_submission`, not ok (with the reasons)
        when Slack would refuse it and show the person its own generic error instead."""
        with self._lock:
            stored = self._workspace.views.get(str(view.get("id")), view)
            problems = submission_answer_errors(stored, answer)
            body: JSON = {"ok": not problems}
            if problems:
                body |= {"error": "invalid_response", "problems": problems}
            args = dict(answer) if isinstance(answer, dict) else {}
            call = Call("view_submission", args, None, 200, body)
            self._record(call)
        return call

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        with self._changed:
            self._changed.notify_all()

    def _dispatch(self, method: str, args: Args, token: str | None) -> JSON:
        if method not in METHODS and method != "apps.connections.open":
            raise SlackError("unknown_method", req_method=method)
        if not token:
            raise SlackError("not_authed")
        if method == "apps.connections.open":
            return self._connections_open(token)
        if token == self.app_token:
            raise SlackError("not_allowed_token_type")
        if token != self.bot_token:
            raise SlackError("invalid_auth")
        needed = SCOPES.get(method)
        if needed and needed not in self.scopes:
            provided = ",".join(sorted(self.scopes))
            raise SlackError("missing_scope", needed=needed, provided=provided)
        return METHODS[method](self._workspace, args)

    def _connections_open(self, token: str) -> JSON:
        if token == self.bot_token or token.startswith(("xoxb-", "xoxp-")):
            raise SlackError("not_allowed_token_type")
        if token != self.app_token:
            raise SlackError("invalid_auth")
        if self._socket_server is None:
            raise SlackError("internal_error", warning="no FakeSocketModeServer attached")
        return {"url": self._socket_server.new_url()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    """Turns an HTTP request into (method, args, token), as Slack reads them."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the calls are recorded on the fake."""

    def _serve(self) -> None:
        if not self.server.fake.reachable:
            self.close_connection = True
            return
        url = urlsplit(self.path)
        if not url.path.startswith(("/api/", "/hooks/")):
            self._send(404, {"ok": False, "error": "not_found"}, {})
            return
        args: Args = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        kind = self.headers.get_content_type()
        if raw and kind == "application/json":
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                self._send(200, {"ok": False, "error": "invalid_json"}, {})
                return
            args.update(body)
        elif raw and kind == "application/x-www-form-urlencoded":
            args.update(parse_qsl(raw, keep_blank_values=True))
        elif raw:
            self._send(200, {"ok": False, "error": "invalid_form_data"}, {})
            return
        if url.path.startswith("/hooks/"):
            self._send(*self.server.fake.answer_hook(url.path.removeprefix("/hooks/"), args))
            return
        # Slack reads a token argument only from forms; JSON bodies need the header.
        form_token = args.pop("token", None) if kind != "application/json" else None
        authorization = self.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ").strip() or form_token
        self._send(*self.server.fake.answer(url.path.removeprefix("/api/"), args, token))

    def _send(self, status: int, body: JSON, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
