"""/metrics counts no command that could point at one person in a small community: a participant's
`forget-me`, `crisis`, `alert`, `export` … are counted together (issue 11, Low)."""

from __future__ import annotations

from bot import metrics
from bot.models import Participant
from tests.unit.test_dispatch import ALICE, message, rig


def count(command: str) -> float:
    return metrics.REGISTRY.get_sample_value("reconnect_commands_total", {"command": command}) or 0


async def test_personal_commands_are_not_counted_by_name(db, services) -> None:
    r = rig(db, services)
    with db.session() as s:
        s.add(Participant(user_id=ALICE, status="active", pseudonym="Alice", pseudonym_key="alice",
                          community="North"))
    before = {name: count(name) for name in ("forget-me", "crisis", "export", "personal", "help")}
    for body in ("!forget-me", "!crisis", "!export", "!help"):
        await r.dispatcher.handle_event(message(body))
    assert count("forget-me") == count("crisis") == count("export") == 0
    assert count("personal") == before["personal"] + 3
    assert count("help") == before["help"] + 1  # a command that says nothing about anyone keeps its name
