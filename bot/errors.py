"""Domain errors. Each carries a catalogue key and parameters; the router turns it into a reply."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotFound(DomainError):
    """The thing asked for does not exist (for this person)."""


class NotAllowed(DomainError):
    """This person may not do this."""


class Invalid(DomainError):
    """The input does not make sense; the reply says what would."""
