"""A blocker's query as the thread shows it: its shape, never the data its literals hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.migrations.lock_watch import QUERY_CHARS, first_line


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (
            "SELECT * FROM users WHERE email = 'alice@example.com' AND id = 42",
            "SELECT * FROM users WHERE email = '…' AND id = ?",
        ),
        ("UPDATE t1 SET note = E'it''s' WHERE x > 3.5e2", "UPDATE t1 SET note = '…' WHERE x > ?"),
        ("SELECT $$card 4111$$, $k$secret$k$ FROM t", "SELECT $$…$$, $$…$$ FROM t"),
        ("INSERT INTO log VALUES ('first line\nsecond line')", "INSERT INTO log VALUES ('…'"),
        ("\n\n  SELECT col2, $1 FROM t2  \nWHERE a = 'x'", "SELECT col2, $1 FROM t2"),
        ("SELECT count(*) FROM t /* <!channel> */", "SELECT count(*) FROM t /* <!channel> */"),
        ("", ""),
    ],
)
def test_the_first_line_keeps_the_shape_and_masks_the_literals(query: str, shown: str) -> None:
    assert first_line(query) == shown


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_a_quoted_value_never_shows(secret: str) -> None:
    quoted = secret.replace("'", "''")
    shown = first_line(f"SELECT 1 FROM users WHERE note = '{quoted}' LIMIT 5")

    masked = "SELECT ? FROM users WHERE note = '…'"
    # The whole line, or its first line when the value spans lines.
    assert shown in (f"{masked} LIMIT ?", masked)
    assert len(shown) <= QUERY_CHARS
