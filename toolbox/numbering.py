"""The person's numbers (1..n as shown in their lists) and list-size limits."""

from __future__ import annotations

from typing import Sequence, TypeVar

from bot.errors import Invalid, NotFound

T = TypeVar("T")


def pick(items: Sequence[T], n: int, noun: str) -> T:
    """Item ``n`` (1-based) of a list the person saw; otherwise "there is no goal 7; you have 3"."""
    if 1 <= n <= len(items):
        return items[n - 1]
    suffix = {0: "_none", 1: "_one"}.get(len(items), "")
    raise NotFound(f"toolbox.{noun}.no_such{suffix}", n=n, count=len(items))


def ensure_room(count: int, limit: int, noun: str) -> None:
    if count >= limit:
        raise Invalid(f"toolbox.{noun}.full", limit=limit)


def check_length(text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise Invalid("toolbox.empty_text")
    if len(text) > limit:
        raise Invalid("toolbox.too_long", length=len(text), max=limit)
    return text
