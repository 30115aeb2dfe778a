"""The bot under faults: killed mid-apply, raced, retried, cut off from git, PostgreSQL or
its state file, and flooded with junk. Faults come from outside (see tests/chaos.py); the
assertions are on what the team sees and on what production, the origin and the state
hold afterwards.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.slack.app import Watcher
from bot.slack.dialogs import REASON_BLOCK
from bot.slack.http_door import MAX_BODY
from bot.standin import BOT_TOKEN
from bot.standin.signing import (
    app_home_opened,
    button_click,
    checkboxes_change,
    event_callback,
    slash_command,
    view_submission,
)
from storage.store import Store
from tests.slack.test_apply_from_slack import origin_doc
from tests.support import pg
from tests.support.applyteam import BASELINE, columns, production_versions
from tests.support.chaos import (
    approve_in_slack,
    doc_commits,
    gate_checks_waiting,
    migrations_waiting,
    other_sessions,
    raw_post,
    said_to,
    start_crash_apply,
    state_rows,
    status_of,
    tables_locked,
    thread_of,
    wait_until,
)
from tests.support.slackbot import (
    CHANNEL,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SECRET,
    SlackBot,
    card_text,
)

REVISION = DEMO_PENDING.revision
APPLIER = SECOND_REVIEWER
OTHER_APPLIER = OUTSIDER
OTHER = MigrationSpec(
    "c0ffee1d2e3f",
    BASELINE,
    "Add nickname to users",
    "add_nickname_to_users",
    upgrade='op.add_column("users", sa.Column("nickname", sa.String(40)))',
    downgrade='op.drop_column("users", "nickname")',
)
OTHER_ENTRY = (
    DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, OTHER.revision)
    .replace(DEMO_PENDING.filename, OTHER.filename)
    .replace("Add Visibility to Posts", "Add Nickname to Users")
)


def production_bot(factory: Callable[..., SlackBot], pg_url: str) -> SlackBot:
    """The bot with a PostgreSQL production at the seed's history and two appliers.

    The migration's lock timeout is long: tests hold tables locked to catch it mid-way.
    """
    bot = factory(
        database_url=pg_url,
        appliers=frozenset({APPLIER, OTHER_APPLIER}),
        lock_timeout_seconds=60,
    )
    config = Config(str(bot.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    return bot


def answered(bot: SlackBot, user: str) -> str:
    """The bot's last private answer to `user` about an apply (after "Checking…")."""
    bot.wait_for(lambda: [t for t in said_to(bot, user) if not t.startswith("Checking")])
    return [t for t in said_to(bot, user) if not t.startswith("Checking")][-1]


# -- killed mid-apply ---------------------------------------------------------------------


def test_killed_during_the_migration_the_card_says_failed_and_production_is_unchanged(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, tmp_path: Path
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)

    with tables_locked(pg_url, "posts"):
        crashing = start_crash_apply(bot.settings, REVISION, APPLIER, tmp_path)
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        bot.wait_for_card(lambda shown: "*Applying*" in shown, REVISION)
        crashing.send_signal(signal.SIGKILL)
        crashing.wait()
    # The killed bot's session finishes its statement, finds no client and rolls back.
    wait_until(lambda: other_sessions(pg_url) == 0)
    assert production_versions(pg_url) == {BASELINE}
    assert "visibility" not in columns(pg_url, "posts")

    bot.restart()
    assert bot.services.applier is not None
    bot.services.applier.recover()

    assert status_of(bot, REVISION) == "Failed"
    assert "Production was not changed; run `/schema apply` again." in thread_of(bot, REVISION)
    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["interrupted"]
    assert bot.services.store.get_lock("apply") is None

    bot.command(f"apply {REVISION}", APPLIER)
    bot.wait_for(lambda: status_of(bot, REVISION) == "Applied", timeout=60)
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1
    states = [run.state for run in bot.services.store.runs_for(REVISION)]
    assert states == ["interrupted", "succeeded"]


def test_killed_between_the_migration_and_the_push_the_card_says_applied_after_restart(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, tmp_path: Path
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)
    before = origin_doc(bot)
    # The origin stalls the bot's push until the test lets it fail.
    hook = bot.dev.origin / "hooks" / "pre-receive"
    pushing, release = tmp_path / "pushing", tmp_path / "release"
    hook.write_text(
        f"#!/bin/sh\ntouch {pushing}\nwhile [ ! -e {release} ]; do sleep 0.05; done\nexit 1\n"
    )
    hook.chmod(0o755)

    crashing = start_crash_apply(bot.settings, REVISION, APPLIER, tmp_path)
    wait_until(pushing.exists)
    crashing.send_signal(signal.SIGKILL)
    crashing.wait()
    release.touch()
    hook.unlink()
    assert status_of(bot, REVISION) == "Applying"
    assert production_versions(pg_url) == {REVISION}
    assert origin_doc(bot) == before

    bot.restart()
    assert bot.services.applier is not None
    bot.services.applier.recover()
    bot.services.applier.recover()

    assert status_of(bot, REVISION) == "Applied"
    assert ":rocket:" in thread_of(bot, REVISION)
    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["succeeded"]
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1
    assert "- **Applied to Prod**: Yes - " in origin_doc(bot)


# -- two applies at once ------------------------------------------------------------------


def apply_both(bot: SlackBot, first: str, second: str) -> None:
    """APPLIER types `/schema apply first` and OTHER_APPLIER `/schema apply second` at the
    same moment."""
    threads = [
        threading.Thread(
            target=bot.command, args=(f"apply {first}", APPLIER), kwargs={"wait": False}
        ),
        threading.Thread(
            target=bot.command, args=(f"apply {second}", OTHER_APPLIER), kwargs={"wait": False}
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("second", [REVISION, OTHER.revision], ids=["same", "different"])
def test_two_applies_at_once_run_one_migration_and_refuse_the_other(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, second: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    bot.push_revision(OTHER, OTHER_ENTRY)
    bot.scan()
    approve_in_slack(bot, REVISION)
    approve_in_slack(bot, OTHER.revision)

    with tables_locked(pg_url, "posts", "users"):
        # Production is slow to answer (a long transaction holds `alembic_version`), so both
        # gate checks wait there and pass at the same moment.
        with tables_locked(pg_url, "alembic_version"):
            sent = threading.Thread(target=apply_both, args=(bot, REVISION, second))
            sent.start()
            wait_until(lambda: gate_checks_waiting(pg_url) == 2)
        sent.join()
        answers = answered(bot, APPLIER), answered(bot, OTHER_APPLIER)
        # Whichever came first is migrating (held by the locks); the other was refused.
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        started = [a for a in answers if "follow it in the card's thread" in a]
        refused = [a for a in answers if "another apply is running" in a.lower()]
        assert (len(started), len(refused)) == (1, 1), answers
        winner = REVISION if answers[0] in started else second
        loser = second if winner == REVISION else REVISION
        lock = bot.services.store.get_lock("apply")
        assert lock is not None and winner in lock.holder
        assert migrations_waiting(pg_url) == 1

    bot.wait_for(lambda: status_of(bot, winner) == "Applied", timeout=60)
    assert production_versions(pg_url) == {winner}
    assert [run.state for run in bot.services.store.runs_for(winner)] == ["succeeded"]
    assert doc_commits(bot, winner) == 1
    # The refusal left no trace on the other revision: no run, its card as it was.
    if loser != winner:
        assert bot.services.store.runs_for(loser) == []
        assert status_of(bot, loser) == "Approved 1/1"
        bot.command(f"apply {loser}", APPLIER)
        bot.wait_for(lambda: status_of(bot, loser) == "Applied", timeout=60)
        assert production_versions(pg_url) == {REVISION, OTHER.revision}
        assert doc_commits(bot, loser) == 1


# -- Slack retries ------------------------------------------------------------------------


def test_a_retried_apply_command_applies_once(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)

    with tables_locked(pg_url, "posts"):
        first = bot.command(f"apply {REVISION}", APPLIER)
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        # Slack did not see the ack in time and sends the same request again, twice.
        for attempt in ("1", "2"):
            retry = bot.post(
                first.delivery.request,
                headers={"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"},
            )
            assert (retry.status, retry.body) == (200, b"")
    bot.wait_for(lambda: status_of(bot, REVISION) == "Applied", timeout=60)

    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["succeeded"]
    assert said_to(bot, APPLIER) == [
        first.text,
        f"Applying `{REVISION}`: follow it in the card's thread.",
    ]
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1


# -- production down ----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("outage", ["port closed", "database dropped"])
def test_production_down_at_apply_time_is_a_clear_refusal_and_records_nothing(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, outage: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)
    card_before, doc_before = bot.card(REVISION), origin_doc(bot)
    if outage == "port closed":
        bot.restart(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/prod")
    else:
        pg.drop_database(pg_url.rsplit("/", 1)[1])

    bot.command(f"apply {REVISION}", APPLIER)
    refusal = answered(bot, APPLIER)

    assert refusal.startswith(f"Can't apply `{REVISION}` yet:")
    assert "the production database" in refusal and "did not answer" in refusal
    reason = "Connection refused" if outage == "port closed" else "does not exist"
    assert reason in refusal
    assert bot.services.store.runs_for(REVISION) == []
    assert [e.action for e in bot.services.store.audit_for(REVISION)][-1] == "apply_refused"
    assert bot.card(REVISION) == card_before
    assert origin_doc(bot) == doc_before
    assert doc_commits(bot, REVISION) == 0


# -- Slack slow to answer -----------------------------------------------------------------


def test_a_rate_limited_slack_does_not_hold_up_the_acks(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    # Slack rate-limits the card's update for a second; every card update waits behind it.
    slackbot.fake.fail_next("chat.update", status=429, retry_after=1)

    deliveries = [
        slackbot.click("approve", user) for user in (REVIEWER, SECOND_REVIEWER, OUTSIDER) * 3
    ]

    assert [d.status for d in deliveries] == [200] * 9
    assert max(d.seconds for d in deliveries) < 0.5
    slackbot.wait_for(lambda: status_of(slackbot, REVISION) == "Approved 3/1")


# -- the origin unreachable or rewritten --------------------------------------------------


def test_the_origin_unreachable_the_bot_serves_on_says_so_once_and_recovers(
    slackbot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    slackbot.review_pending()
    watcher = Watcher(slackbot.services)  # one watcher for every cycle, as `serve` has
    away = slackbot.tmp_path / "moved-away.git"
    slackbot.dev.origin.rename(away)

    reports = [watcher.cycle() for _ in range(3)]

    assert reports == [None, None, None]
    failures = [e for e in slackbot.errors() if e.startswith("scan failed")]
    assert len(failures) == 1 and "cannot fetch" in failures[0]
    # Slack is still served: a click, a command and the health check.
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda shown: "Approved 1/1" in shown)
    assert REVISION in slackbot.command("list", REVIEWER).text
    assert slackbot.request("GET", "/healthz").status == 200

    away.rename(slackbot.dev.origin)
    slackbot.push_revision(OTHER, OTHER_ENTRY)
    with caplog.at_level("INFO", logger="bot.slack.app"):
        report = watcher.cycle()

    assert report is not None and [d.revision for d in report.new] == [OTHER.revision]
    assert "the repository answers again" in caplog.text
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert len([e for e in slackbot.errors() if e.startswith("scan failed")]) == 1
    slackbot.forget_errors()


def rewritten_histories(bot: SlackBot) -> tuple[str, str]:
    """Two local commits on main's tip, as two rewrites of it: one adds REVISION, the
    other OTHER (each with its document entry). Nothing is pushed."""
    tips = []
    for name, spec, entry in (
        ("rewrite-a", DEMO_PENDING, DEMO_PENDING_ENTRY),
        ("rewrite-b", OTHER, OTHER_ENTRY),
    ):
        bot.dev.switch("main")
        bot.dev.switch(name, create=True)
        bot.dev.add_migration(spec)
        doc = (bot.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
        bot.dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message="Document it")
        tips.append(bot.dev.repo.head.commit.hexsha)
    bot.dev.switch("main")
    return tips[0], tips[1]


def force_push(bot: SlackBot, commit: str) -> None:
    bot.dev.repo.git.push("--force", "origin", f"{commit}:refs/heads/main")


def test_a_force_pushed_main_closes_the_dropped_revision_and_reviews_the_new_one(
    slackbot: SlackBot,
) -> None:
    slackbot.scan()
    with_pending, with_other = rewritten_histories(slackbot)
    force_push(slackbot, with_pending)
    slackbot.scan()
    slackbot.click("approve", REVIEWER, REVISION)
    slackbot.wait_for(lambda: status_of(slackbot, REVISION) == "Approved 1/1")

    force_push(slackbot, with_other)
    report = slackbot.scan()

    assert report is not None
    assert [d.revision for d in report.removed] == [REVISION]
    assert [d.revision for d in report.new] == [OTHER.revision]
    assert status_of(slackbot, REVISION) == "Removed"
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert len(slackbot.cards()) == 2


def test_force_pushes_during_scans_leave_one_card_per_revision_and_the_last_push_wins(
    slackbot: SlackBot,
) -> None:
    slackbot.scan()
    histories = rewritten_histories(slackbot)
    pushes = [histories[number % 2] for number in range(10)]
    rewriting = threading.Thread(target=lambda: [force_push(slackbot, c) for c in pushes])
    watcher = Watcher(slackbot.services)

    rewriting.start()
    while rewriting.is_alive():
        watcher.cycle()
    rewriting.join()
    watcher.cycle()

    # The last push left OTHER on main: its card is open, REVISION's is closed.
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert status_of(slackbot, REVISION) == "Removed"
    assert len(slackbot.cards()) == 2
    assert slackbot.fake.orphans(CHANNEL) == []


# -- the state file damaged or locked at start --------------------------------------------


def cli_environment(tmp_path: Path, state: Path) -> dict[str, str]:
    """What an operator's environment holds for `schemabot`, the state file at `state`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    return env | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "chaos-signing-secret",
        "SCHEMABOT_SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(tmp_path / "origin.git"),
        "SCHEMABOT_WORKDIR": str(tmp_path / "work"),
        "SCHEMABOT_STATE_DB": str(state),
    }


CLI_COMMANDS = (["status"], ["scan"], ["serve", "--host", "127.0.0.1", "--port", "0"])


def run_cli(tmp_path: Path, state: Path) -> list[subprocess.CompletedProcess[str]]:
    """`schemabot status`, `scan` and `serve` started at once on the state file."""
    schemabot = str(Path(sys.executable).parent / "schemabot")
    started = [
        subprocess.Popen(
            [schemabot, *command],
            cwd=tmp_path,
            env=cli_environment(tmp_path, state),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in CLI_COMMANDS
    ]
    done = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return done


def reasons(stderr: str) -> list[str]:
    """stderr without the log records (`serve` logs its settings before it opens the store)."""
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]


def state_file(tmp_path: Path) -> Path:
    """A state file holding a review in progress."""
    path = tmp_path / "state" / "state.db"
    with Store.open(path) as store:
        store.record_revision(
            REVISION,
            path=DEMO_PENDING.path,
            blob_sha="b10b",
            branch="main",
            commit="c0c0",
            author_name="Dana Developer",
            author_email="dana@example.com",
        )
        store.record_verdict(REVISION, REVIEWER, "approve", None, "b10b")
    return path


@pytest.mark.parametrize("damage", ["overwritten", "header smashed", "truncated"])
def test_a_damaged_state_file_stops_the_cli_with_one_line_and_stays_as_it_was(
    tmp_path: Path, damage: str
) -> None:
    state = state_file(tmp_path)
    good = state.read_bytes()
    if damage == "overwritten":
        state.write_bytes(b"these are not the bytes you are looking for\n" * 200)
    elif damage == "header smashed":
        state.write_bytes(b"\x00" * 100 + good[100:])
    else:
        state.write_bytes(good[:1500])
    before = state.read_bytes()

    for done in run_cli(tmp_path, state):
        assert done.returncode == 1, done.args
        [reason] = reasons(done.stderr)
        assert reason.startswith(f"schemabot: state store {state}: "), reason
        assert "damaged" in reason or "malformed" in reason, reason
    assert state.read_bytes() == before
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.db"]


def test_a_locked_state_file_stops_the_cli_with_one_line_and_loses_nothing(
    tmp_path: Path,
) -> None:
    state = state_file(tmp_path)
    before = state.read_bytes()
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        results = run_cli(tmp_path, state)
    finally:
        holder.rollback()
        holder.close()

    for done in results:
        assert done.returncode == 1, done.args
        assert reasons(done.stderr) == [
            f"schemabot: state store {state}: another process held it locked for more than 5s"
        ]
    assert state.read_bytes() == before
    with Store.open(state) as store:
        assert [v.user_id for v in store.current_verdicts(REVISION)] == [REVIEWER]


# -- junk at the door ---------------------------------------------------------------------

SECRET_BYTES = SECRET.encode()
SLACK_KEYS = (
    *("type", "token", "team", "user", "channel", "view", "event", "actions", "state"),
    *("trigger_id", "event_id", "command", "text", "payload", "user_id", "enterprise"),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(SLACK_KEYS) | st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/x"]
)
FORGERIES = (
    "unsigned",
    "wrong secret",
    "stale",
    "from the future",
    "body changed after signing",
    "timestamp not a number",
    "garbage headers",
)
JUNK_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def signed_headers(body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(SECRET_BYTES, stamp, body),
    }


@st.composite
def forged_requests(draw: st.DrawFn, real: list[bytes]) -> tuple[bytes, dict[str, str]]:
    """A body (junk, or a request Slack really sent) with headers that do not sign it."""
    body = draw(
        st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(str.encode),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            st.sampled_from(real),
        )
    )
    forgery = draw(st.sampled_from(FORGERIES))
    now = int(time.time())
    headers: dict[str, str] = {}
    if forgery == "wrong secret":
        headers = signed_headers(body) | {
            "X-Slack-Signature": signature(b"not-the-secret", str(now), body)
        }
    elif forgery == "stale":
        headers = signed_headers(body, now - draw(st.integers(301, 10**9)))
    elif forgery == "from the future":
        headers = signed_headers(body, now + draw(st.integers(301, 10**9)))
    elif forgery == "body changed after signing":
        headers = signed_headers(body + draw(st.binary(min_size=1, max_size=5)))
    elif forgery == "timestamp not a number":
        stamp = draw(HEADER_TEXT.filter(lambda text: not text.strip().lstrip("+-").isdigit()))
        headers = signed_headers(body, stamp)
    elif forgery == "garbage headers":
        headers = {
            "X-Slack-Request-Timestamp": draw(HEADER_TEXT),
            "X-Slack-Signature": draw(HEADER_TEXT),
        }
    headers["Content-Type"] = draw(CONTENT_TYPES)
    if draw(st.booleans()):
        headers["X-Slack-Retry-Num"] = draw(HEADER_TEXT)
    return body, headers


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON value, but the response_url (the bot would post to it)."""
    found = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if key != "response_url":
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn, kind: str, payload: dict[str, Any]) -> bytes:
    """A request Slack really sent with one value replaced by junk, or removed."""
    payload = copy.deepcopy(payload)
    path = draw(st.sampled_from(paths(payload)))
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}).encode()
    if kind == "command":
        return urlencode({key: str(value) for key, value in payload.items()}).encode()
    return json.dumps(payload).encode()


@st.composite
def signed_junk(
    draw: st.DrawFn, real: list[tuple[str, dict[str, Any]]]
) -> tuple[bytes, dict[str, str]]:
    """A correctly signed body that is not quite, or not at all, what Slack sends."""
    kind, payload = draw(st.sampled_from(real))
    body = draw(
        st.one_of(
            mutated(kind, payload),
            st.binary(max_size=200),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            JSON_VALUES.map(lambda value: urlencode({"payload": json.dumps(value)}).encode()),
            st.text(max_size=100).map(lambda text: ("payload=" + text).encode()),
            st.dictionaries(st.sampled_from(SLACK_KEYS), st.text(max_size=12), max_size=5).map(
                lambda fields: urlencode(fields).encode()
            ),
        )
    )
    kinds = {"events": "application/json"}
    content_type = kinds.get(kind, "application/x-www-form-urlencoded")
    return body, signed_headers(body) | {
        "Content-Type": draw(st.just(content_type) | CONTENT_TYPES)
    }


def real_requests(bot: SlackBot) -> list[tuple[str, dict[str, Any]]]:
    """Requests as Slack sends them to the bot now: a click, a tick, a command, an event,
    a modal submitted."""
    bot.click("request_changes", REVIEWER, REVISION)
    modal = bot.wait_for(lambda: bot.fake.views_opened)[-1]
    card = bot.card(REVISION)
    url = bot.fake.response_url(CHANNEL, REVIEWER, card.ts)
    checklist = next(b for b in card.blocks if b.get("block_id") == f"checklist:{REVISION}")
    element = checklist["elements"][0]
    common = {"message": card.as_slack(), "channel_id": CHANNEL, "user_id": REVIEWER}
    return [
        ("interactive", button_click("approve", response_url=url, **common)),
        (
            "interactive",
            checkboxes_change(
                element["action_id"], [element["options"][0]["value"]], response_url=url, **common
            ),
        ),
        (
            "command",
            slash_command(
                f"status {REVISION[:4]}",
                user_id=REVIEWER,
                channel_id=CHANNEL,
                response_url=bot.fake.response_url(CHANNEL, REVIEWER),
            ),
        ),
        ("events", event_callback(app_home_opened(REVIEWER))),
        ("interactive", view_submission(modal, {REASON_BLOCK: "Split it"}, user_id=REVIEWER)),
    ]


def encoded(kind: str, payload: dict[str, Any]) -> bytes:
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}).encode()
    if kind == "command":
        return urlencode(payload).encode()
    return json.dumps(payload).encode()


def test_unsigned_and_forged_junk_gets_no_5xx_and_changes_nothing(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    state = slackbot.settings.state_db_path
    real = [encoded(kind, payload) for kind, payload in real_requests(slackbot)]
    rows, calls = state_rows(state), len(slackbot.fake.calls())

    @settings(JUNK_SETTINGS, max_examples=600)
    @given(forged_requests(real))
    def knock(request: tuple[bytes, dict[str, str]]) -> None:
        body, headers = request
        assert raw_post(slackbot.port, body, headers) == 401

    knock()
    # Nor is a body too big to be Slack's read at all.
    assert raw_post(slackbot.port, b"{" * (MAX_BODY + 1), signed_headers(b"{")) == 413

    assert len(slackbot.fake.calls()) == calls
    assert state_rows(state) == rows
    assert slackbot.errors() == []


def test_signed_malformed_payloads_get_no_5xx(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    real = real_requests(slackbot)

    @settings(JUNK_SETTINGS, max_examples=400)
    @given(signed_junk(real))
    def knock(request: tuple[bytes, dict[str, str]]) -> None:
        body, headers = request
        assert raw_post(slackbot.port, body, headers) < 500

    knock()

    # The bot still works: a real click is taken.
    slackbot.click("approve", SECOND_REVIEWER, REVISION)
    slackbot.wait_for(lambda: f"<@{SECOND_REVIEWER}>" in card_text(slackbot.card(REVISION)))
    # Handlers that got a signed payload missing what they need logged it; that is all.
    slackbot.forget_errors()
