"""The base of every error a user can cause."""

from __future__ import annotations

from bot.core.text import Text, as_text


class SchemabotError(Exception):
    """An error a user can cause; its message is fit to show them.

    The message is a `Text` (a plain `str` is taken as one): each front end renders it,
    escaping what came from the repository; `str()` gives it as plain text.
    """

    def __init__(self, message: str | Text = "") -> None:
        self.text = as_text(message)
        super().__init__(str(self.text))
