"""The one escaping rule: strings become mrkdwn in bot/slack/markup.py, escaped once."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import Bold, Code, Fenced, Text, User
from bot.slack.markup import (
    ELLIPSIS,
    clip,
    code,
    escape,
    fence,
    fenced_chunks,
    fit,
    link,
    mention,
    render,
)
from bot.standin.mrkdwn import displayed, live_tokens

# Text with more of what Slack reads as markup than st.text() would draw by chance.
MARKUP = st.text(alphabet=st.sampled_from(list("<>&`*_~!@#|:/ \nUWCh0123ab.-")), max_size=80)
ANY_TEXT = st.one_of(st.text(max_size=120), MARKUP)
ENTITY_OR_NOT_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
ZERO_WIDTH = "\u200b"


def well_escaped(mrkdwn: str) -> bool:
    """No `<` or `>` of anyone's, and every `&` starts an entity the renderer wrote."""
    return "<" not in mrkdwn and ">" not in mrkdwn and not ENTITY_OR_NOT_AMPERSAND.search(mrkdwn)


def test_slacks_three_control_characters_are_escaped() -> None:
    assert escape("a <> b & <!channel>") == "a &lt;&gt; b &amp; &lt;!channel&gt;"
    assert displayed(escape("a <> b & <!channel>")) == "a <> b & <!channel>"


def test_a_cut_never_splits_an_entity() -> None:
    assert fit("<<<<", 9) == "&lt;&lt;…"
    assert fit("<<<<", 10) == "&lt;&lt;…"
    assert fit("a<b", 5) == "a…"
    assert fit("short", 100) == "short"


def test_code_spans_cannot_be_closed_by_what_they_hold() -> None:
    shown = code("x` <!here> `y\nz")
    assert shown.count("`") == 2 and shown.startswith("`") and shown.endswith("`")
    assert "<" not in shown and "\n" not in shown


def test_code_blocks_cannot_be_closed_by_what_they_hold() -> None:
    shown = fence("SELECT 1; -- ``` <!channel>\n`tick`")
    assert shown.startswith("```") and shown.endswith("```")
    assert shown[3:-3].count("``") == 0
    assert displayed(shown[3:-3]).replace(ZERO_WIDTH, "") == "SELECT 1; -- ``` <!channel>\n`tick`"


def test_only_a_slack_user_id_becomes_a_mention() -> None:
    assert mention("U0DANA0001") == "<@U0DANA0001>"
    assert mention("W0ENTERPR1") == "<@W0ENTERPR1>"
    assert mention("<!channel>") == "@&lt;!channel&gt;"
    assert mention("schemabot") == "@schemabot"
    assert mention("U0DANA0001\n") == "@U0DANA0001\n"


def test_links_show_their_label_as_written() -> None:
    assert link("https://team.slack.com/archives/C1/p1", "<b>|x") == (
        "<https://team.slack.com/archives/C1/p1|&lt;b&gt;¦x>"
    )
    assert link("javascript:alert(1)", "x") == "x"
    assert link("https://evil.example|<!channel>", "x") == "x"
    assert link("https://team.slack.com/x\n", "x") == "x"


def test_plain_text_objects_are_cut_but_not_escaped() -> None:
    assert clip("a <b>", 10) == "a <b>"
    assert clip("x" * 20, 10) == "x" * 9 + ELLIPSIS


def test_render_cuts_to_the_limit_and_says_where_the_rest_is() -> None:
    text = Text(Bold("Description"), "\n", "<" * 5000)
    shown = render(text, 3000, Text("(see ", Code("SCHEMA_CHANGES.md"), ")"))
    assert len(shown) <= 3000
    assert shown.endswith("… (see `SCHEMA_CHANGES.md`)")
    assert shown.startswith("*Description*\n&lt;")


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_fit_is_escaped_within_its_limit_and_a_start_of_the_text(text: str, limit: int) -> None:
    shown = fit(text, limit)
    assert len(shown) <= limit
    assert well_escaped(shown)
    assert text.startswith(displayed(shown).removesuffix(ELLIPSIS).rstrip()) or (
        displayed(shown) == text
    )


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.integers(min_value=10, max_value=400))
def test_code_and_fence_hold_anything_within_their_limit(text: str, limit: int) -> None:
    span = code(text, limit)
    assert len(span) <= limit and span.count("`") == 2 and well_escaped(span)
    block = fence(text, limit)
    assert len(block) <= limit and well_escaped(block)
    assert block.startswith("```") and block.endswith("```") and "``" not in block[3:-3]


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_TEXT, max_size=30).map("\n".join), st.integers(100, 3000))
def test_sql_in_chunks_keeps_every_character(sql: str, limit: int) -> None:
    chunks = fenced_chunks(sql, limit)
    assert all(len(chunk) <= limit and well_escaped(chunk) for chunk in chunks)
    assert all("``" not in chunk[3:-3] for chunk in chunks)
    joined = "".join(displayed(chunk[3:-3]) for chunk in chunks).replace(ZERO_WIDTH, "")
    assert joined.strip() == sql.strip() or not sql.strip()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            ANY_TEXT,
            ANY_TEXT.map(Code),
            ANY_TEXT.map(Bold),
            ANY_TEXT.map(Fenced),
            ANY_TEXT.map(User),
            st.from_regex(r"U[A-Z0-9]{8,10}", fullmatch=True).map(User),
        ),
        max_size=12,
    ),
    st.integers(min_value=40, max_value=3000),
)
def test_only_valid_user_ids_go_live(
    parts: list[str | Code | Bold | Fenced | User], limit: int
) -> None:
    text = Text(*parts)
    shown = render(text, limit)
    assert len(shown) <= limit
    mentioned = {f"<@{p.id}>" for p in parts if isinstance(p, User)}
    assert set(live_tokens(shown)) <= mentioned
    assert not ENTITY_OR_NOT_AMPERSAND.search(shown)
