"""Errors of the state store."""

from pathlib import Path

from bot.errors import SchemabotError


class StateStoreError(SchemabotError):
    """The state file cannot be used as it is; the file is left untouched.

    It is not a SQLite database, another process holds it locked past the busy timeout,
    or a newer schemabot wrote it.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"state store {path}: {reason}")
        self.path = path
        self.reason = reason


class RecordNotFound(SchemabotError):
    """A store call named a revision or run that was never recorded."""
