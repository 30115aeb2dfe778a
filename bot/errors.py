"""The base of every error a user can cause."""


class SchemabotError(Exception):
    """An error a user can cause; its message is fit to show them."""
