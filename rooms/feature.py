"""The ``rooms`` feature object; command and observer modules register on it."""

from __future__ import annotations

from pathlib import Path

from bot.contracts import PEER_STANDING, PERSONAL_DATA
from bot.feature import Feature

feature = Feature(
    name="rooms",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
    requires=(PERSONAL_DATA,),  # what people do here must be exportable and erasable
    provides=(PEER_STANDING,),  # bans, mutes and blocks (rooms.standing.peer_check)
)
