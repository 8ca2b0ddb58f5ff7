"""Issue 11, finding 15, with real clients: a newcomer cannot take a lookalike of someone's
pseudonym, nor their own login name; a rename after approval reaches the consultant room."""

from __future__ import annotations

from bot.models import RoomKind
from tests.integration.test_rooms_flows import ask_for, enrolled, joined, room_of


async def test_lookalike_and_own_name_pseudonyms_are_refused(bot, consultant, make_user):
    kari, name, ktoolbox = await enrolled(bot, consultant, make_user, "Plover")
    newcomer = await make_user("newcomer")
    dm = await newcomer.dm(bot.user_id)
    await ask_for(newcomer, dm, "!consent", bot.user_id, "!pseudonym")
    cyrillic = name.replace("o", "\u043e")  # Cyrillic о: looks the same, mixes alphabets
    await ask_for(newcomer, dm, f"!pseudonym {cyrillic}", bot.user_id, "one alphabet")
    await ask_for(newcomer, dm, f"!pseudonym {name.replace('l', 'I')}", bot.user_id, "already uses")
    await ask_for(newcomer, dm, f"!pseudonym {newcomer.user_id[1:].split(':')[0]}", bot.user_id,
                  "login or display name")
    await ask_for(newcomer, dm, "!pseudonym Ola\u200b", bot.user_id, "invisible")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    mark = len(consultant.received)
    await ask_for(kari, ktoolbox, f"!pseudonym {name}x", bot.user_id, f"**{name}x**")
    note = await consultant.wait_for(lambda r: r.room_id == consultant_room and "changed their pseudonym" in r.body,
                                     after=mark)
    assert f"**{name}**" in note.body and f"**{name}x**" in note.body and kari.user_id not in note.body
