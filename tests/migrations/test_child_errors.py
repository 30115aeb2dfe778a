"""What a failed child says, in one line: the error after Python's traceback."""

from __future__ import annotations

import pytest

from bot.migrations.runner import last_line


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ("Traceback (most recent call last):\n  ...\nValueError: no\n\n", "ValueError: no"),
        ("  one line  ", "one line"),
        ("   \n\t\n", None),  # blank: drift once raised IndexError here
        (None, None),
    ],
)
def test_the_last_line_that_says_something(error: str | None, said: str | None) -> None:
    assert last_line(error) == said
