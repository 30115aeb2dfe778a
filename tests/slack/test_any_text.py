"""Any text, through every card, reply and view the bot builds: what Slack would parse as
markup is only what the bot wrote itself, and Slack would take every one of them.

Every string a snapshot holds is drawn at random (with a good share of `<`, `>`, `&`,
backticks and newlines), as the repository, git, a database or a person could write it.
The bot's own markup is what it may write: mentions of the Slack user ids it was given,
links to the card permalinks it was given, emoji, bold and code. Any other `<...>` in a
rendered mrkdwn text, or an `&` that does not start an entity, fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.views import View

from bot.core.card import CardSnapshot, ChecklistLine, Finding, Level
from bot.core.checklist import BotCheck, ChecklistEntry
from bot.core.doc import ChecklistItem, DocEntry, Field
from bot.core.gates import Gate, GateReport
from bot.core.records import (
    AuditEvent,
    LintFinding,
    LockRecord,
    RevisionRecord,
    SqlReviewRecord,
    VerdictRecord,
)
from bot.core.review import ReviewState
from bot.core.revision_file import Revision
from bot.core.status_report import list_text, status_text
from bot.core.text import Bold, Code, Fenced, Text, User
from bot.slack.cards import Message, degraded_card, review_card
from bot.slack.dialogs import request_changes_modal, rollback_confirmation
from bot.slack.home import HomeItem, home_view
from bot.slack.limits import MESSAGE_TEXT_LIMIT
from bot.slack.markup import render
from bot.slack.sql_views import sql_modal
from bot.standin.blockkit import message_errors, view_errors
from bot.standin.mrkdwn import live_tokens, mrkdwn_texts

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PERMALINK = "https://schemabot-test.slack.com/archives/C0REVIEW01/p1700000000000100"
ENTITY_OR_NOT_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
FIELDS = ("Type", "Description", "Tables Affected", "Breaking Changes", "Rollback Plan")

HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here> <!everyone>",
        "<@U0EVIL0001>",
        "<#C0EVIL0001>",
        "<https://evil.example|click>",
        "a <> b",
        "&lt;!channel&gt;",
        "```\n<!channel>\n```",
        "`x`",
        "feat/<!channel>",
        "x" * 10_000,
        "<" * 3000,
    ]
)
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from(list("<>&`*_~!@#|:/ \nUWC0123ab.-")), max_size=200),
    HOSTILE,
)
USER_ID = st.from_regex(r"U[A-Z0-9]{8,10}", fullmatch=True)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def snapshots(draw: st.DrawFn) -> CardSnapshot:
    revision = draw(st.one_of(st.just("b41f7a2c9e15"), TEXT.filter(bool)))
    record = RevisionRecord(
        revision=revision,
        path=draw(TEXT),
        blob_sha="0" * 40,
        branch=draw(TEXT),
        commit=draw(TEXT),
        author_name=draw(TEXT),
        author_email=draw(TEXT),
        seen_at=NOW,
        history=False,
        on_main=draw(st.booleans()),
        changed_at=None,
        changed_commit=None,
        removed_at=None,
    )
    entry = None
    if draw(st.booleans()):
        fields = tuple(Field(name, draw(TEXT)) for name in FIELDS)
        entry = DocEntry(revision, draw(TEXT), "pending", fields, (), 0, 1)
    parsed = Revision(
        revision, tuple(draw(st.lists(TEXT, max_size=3))), (), (), record.path, draw(TEXT), None
    )
    verdict = VerdictRecord(
        1, revision, draw(USER_ID), "request_changes", draw(TEXT), "0", NOW, None
    )
    approval = VerdictRecord(2, revision, draw(USER_ID), "approve", None, "0" * 40, NOW, None)
    override = AuditEvent(3, NOW, draw(USER_ID), revision, "lint_override", {"reason": draw(TEXT)})
    state = ReviewState(record, (approval,), (approval,), (verdict,), {}, None, 1, override)
    items = [
        ChecklistLine(
            ChecklistEntry(ChecklistItem(draw(TEXT), f"item-{n}", False, n), bot_check),
            draw(st.booleans()),
            None,
        )
        for n, bot_check in enumerate(draw(st.lists(st.sampled_from([None, BotCheck.BACKUP]))))
    ]
    lint = LintFinding(draw(TEXT), "error", draw(TEXT), draw(TEXT), 1, draw(TEXT))
    sql = SqlReviewRecord(
        revision, "0", draw(TEXT), draw(st.one_of(st.none(), TEXT)), (lint,), draw(TEXT), NOW
    )
    # A user id from Slack is mentioned; anything else handed over as one is not.
    not_an_id = "x" + draw(TEXT)
    finding = Finding(
        Level.ERROR,
        Text(draw(TEXT), Code(draw(TEXT)), User(draw(USER_ID)), User(not_an_id)),
    )
    return CardSnapshot(
        revision=revision,
        title=draw(TEXT),
        record=record,
        parsed=parsed,
        entry=entry,
        doc_path=draw(TEXT),
        main_branch=draw(TEXT),
        author_user=draw(st.one_of(st.none(), USER_ID)),
        findings=(finding,),
        checklist=tuple(items),
        state=state,
        sql=sql,
    )


def mentions_in(snap: CardSnapshot) -> set[str]:
    """The users the bot may mention on this card: the ones it was handed as Slack ids."""
    state = snap.state
    users = [v.user_id for v in (*state.approvals, *state.stale_approvals, *state.change_requests)]
    if state.lint_override is not None:
        users.append(state.lint_override.actor)
    if snap.author_user:
        users.append(snap.author_user)
    for finding in snap.findings:
        users += [part.id for part in finding.text.parts if isinstance(part, User)]
    return {f"<@{user}>" for user in users if not user.startswith("x")}


def only_the_bots_markup(texts: Iterable[str], allowed: set[str]) -> None:
    for text in texts:
        assert set(live_tokens(text)) <= allowed, text[:300]
        assert not ENTITY_OR_NOT_AMPERSAND.search(text), text[:300]


def blocks(message: Message) -> list[dict[str, Any]]:
    return [block.to_dict() for block in message.blocks]


def view(built: View) -> dict[str, Any]:
    shown: dict[str, Any] = built.to_dict()
    return shown


def accepted_message(message: Message, allowed: set[str]) -> None:
    """Slack takes it, and it shows only the bot's markup."""
    dicts = blocks(message)
    assert message_errors(dicts) == []
    assert len(message.text) <= MESSAGE_TEXT_LIMIT
    only_the_bots_markup([message.text, *mrkdwn_texts(dicts)], allowed)


@SETTINGS
@given(snapshots())
def test_review_cards(snap: CardSnapshot) -> None:
    accepted_message(review_card(snap), mentions_in(snap))


@SETTINGS
@given(TEXT.filter(bool), st.one_of(st.none(), TEXT), TEXT)
def test_degraded_cards(revision: str, path: str | None, problem: str) -> None:
    accepted_message(degraded_card(revision, path, Text(problem, Code(problem))), set())


@SETTINGS
@given(snapshots(), TEXT)
def test_the_sql_modal(snap: CardSnapshot, path: str) -> None:
    assert snap.sql is not None
    shown = view(sql_modal(snap.sql, path))
    assert view_errors(shown, expected_type="modal") == []
    only_the_bots_markup(mrkdwn_texts(shown), set())


@SETTINGS
@given(st.lists(snapshots(), max_size=4), st.lists(TEXT, max_size=3))
def test_the_home_tab(snaps: list[CardSnapshot], needs: list[str]) -> None:
    items = [
        HomeItem(snap, tuple(needs), PERMALINK if n % 2 else None) for n, snap in enumerate(snaps)
    ]
    shown = view(home_view(items, "C0REVIEW01", first_open=True))
    assert view_errors(shown, expected_type="home") == []
    texts = list(mrkdwn_texts(shown))
    # A link to a card, labelled with its revision (escaped: no `<` or `>` in the label).
    links = {t for text in texts for t in live_tokens(text) if t.startswith(f"<{PERMALINK}|")}
    mentions = set().union(*(mentions_in(snap) for snap in snaps)) if snaps else set()
    # The review channel, which the bot names from its settings.
    only_the_bots_markup(texts, links | mentions | {"<#C0REVIEW01>"})


@SETTINGS
@given(TEXT.filter(bool), TEXT)
def test_dialogs(revision: str, down: str) -> None:
    modal = view(request_changes_modal(revision))
    assert view_errors(modal, expected_type="modal") == []
    only_the_bots_markup(mrkdwn_texts(modal), set())
    accepted_message(rollback_confirmation(revision, down), set())


@SETTINGS
@given(st.lists(snapshots(), max_size=3), TEXT, st.lists(TEXT, max_size=3))
def test_status_answers(snaps: list[CardSnapshot], holder: str, actions: list[str]) -> None:
    locks = [LockRecord(holder, holder, NOW)]
    allowed = set().union(*(mentions_in(snap) for snap in snaps)) if snaps else set()
    only_the_bots_markup([render(list_text(snaps, locks), MESSAGE_TEXT_LIMIT)], allowed)
    for snap in snaps:
        history = [AuditEvent(n, NOW, USER, snap.revision, a, {}) for n, a in enumerate(actions)]
        answer = render(status_text(snap, history), MESSAGE_TEXT_LIMIT)
        only_the_bots_markup([answer], mentions_in(snap) | {f"<@{USER}>"})


USER = "U0RITA0002"


@SETTINGS
@given(TEXT.filter(bool), st.lists(TEXT, max_size=5), TEXT)
def test_refusals_and_replies(revision: str, details: list[str], output: str) -> None:
    report = GateReport(revision, tuple(Gate(d, False, Text(d, Code(d))) for d in details))
    refusal = render(report.refusal(), MESSAGE_TEXT_LIMIT)
    reply = render(
        Text(User(USER), " asked; ", Bold(output), " ", Code(revision), "\n", Fenced(output)),
        MESSAGE_TEXT_LIMIT,
    )
    only_the_bots_markup([refusal, reply], {f"<@{USER}>"})
