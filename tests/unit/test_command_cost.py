"""What a command costs does not grow with what a person keeps: a listing reads its rows in a fixed
number of statements, and !help's fixed text is rendered once, not on every ask."""

from __future__ import annotations

import itertools

from bot import markup
from bot.models import Participant, RoomKind
from bot.roomdir import register_room
from bot.router import dispatch_command
from tests.support.core import make_context, statements

ANN = "@ann:localhost"
TOOLBOX = "!toolbox:localhost"
_events = itertools.count(1)


async def statements_for(db, services, body: str) -> tuple[int, list[str]]:
    with statements(db.engine) as seen, db.session() as s:
        ctx = make_context(s, services, sender=ANN, room_id=TOOLBOX, body=body, event_id=f"$c{next(_events)}")
        await dispatch_command(services.router, ctx)
        bodies = [m["content"]["body"] for m in ctx.sent]
    return len(seen), bodies


async def test_listing_goals_takes_as_many_statements_for_ten_goals_with_steps_as_for_one(db, services):
    with db.session() as s:
        s.add(Participant(user_id=ANN, status="active", pseudonym="Ann", pseudonym_key="ann", community="North"))
        register_room(s, TOOLBOX, RoomKind.TOOLBOX, owner=ANN)
    await statements_for(db, services, "!goal add walk every day")
    await statements_for(db, services, "!goal step 1 buy shoes")
    one, (listing,) = await statements_for(db, services, "!goals")
    assert "1. walk every day" in listing and "- buy shoes" in listing
    for n in range(2, 11):
        await statements_for(db, services, f"!goal add goal number {n}")
        await statements_for(db, services, f"!goal step {n} step of {n}")
    ten, (listing,) = await statements_for(db, services, "!goals")
    assert ten == one
    for n in range(2, 11):  # each goal with its own step, in order
        assert f"{n}. goal number {n}\n    - step of {n}" in listing
    added_one, _ = await statements_for(db, services, "!goal add an eleventh")
    many, (added,) = await statements_for(db, services, "!goal add a twelfth")
    assert many == added_one and "Goal 12 saved" in added


async def test_help_text_is_rendered_once_for_everyone_who_asks_alike(db, services, monkeypatch):
    with db.session() as s:
        s.add(Participant(user_id=ANN, status="active", pseudonym="Ann", pseudonym_key="ann", community="North"))
        register_room(s, TOOLBOX, RoomKind.TOOLBOX, owner=ANN)
    rendered: list[str] = []
    real = markup.render_markdown

    def counting(text: str) -> str:
        rendered.append(text)
        return real(text)

    monkeypatch.setattr(markup, "render_markdown", counting)
    monkeypatch.setattr("bot.outbox.render_markdown", counting)
    markup.render_static.cache_clear()
    _, first = await statements_for(db, services, "!help")
    _, second = await statements_for(db, services, "!help")
    assert first == second and "!goals" in first[0]
    assert len(rendered) == 1
    # What a person typed is never remembered: their own listing is rendered every time.
    await statements_for(db, services, "!goal add walk every day")
    rendered.clear()
    await statements_for(db, services, "!goals")
    await statements_for(db, services, "!goals")
    assert len(rendered) == 2


def test_the_tables_that_grow_with_everyone_are_indexed_for_their_access_paths(tmp_path):
    """A room's traces dropped when the bot leaves it, the prune by age and the sender's turns
    each read an index, not the whole table (migration core_0006_indexes, and the models alike)."""
    from sqlalchemy import inspect

    from bot.db import Base, Database
    from bot.features import load_features
    from bot.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path / 'i.db'}")
    upgrade(db.engine, load_features())
    wanted = {"handled_event": {("room_id",), ("handled_at",)}, "sent_event": {("room_id",)},
              "outbox_message": {("room_id", "id")}}
    migrated = inspect(db.engine)
    for table, columns in wanted.items():
        in_db = {tuple(ix["column_names"]) for ix in migrated.get_indexes(table)}
        in_model = {tuple(c.name for c in ix.columns) for ix in Base.metadata.tables[table].indexes}
        assert columns <= in_db, (table, in_db)
        assert columns <= in_model, (table, in_model)
    db.dispose()
