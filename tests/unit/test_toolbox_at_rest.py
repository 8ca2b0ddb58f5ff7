"""Personal toolbox text never reaches the database file in clear; catalogues are complete."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import yaml

from bot.i18n import _flatten
from toolbox import activities, crisis_plan, diary, goals, meds, network

SENTENCE = "I want to visit my grandmother in Tromsø every summer"


def test_free_text_is_encrypted_in_the_sqlite_file(sqlite_db):
    user = "@ann:localhost"
    with sqlite_db.session() as s:
        goal = goals.add(s, user, SENTENCE)
        goals.add_step(s, user, 1, SENTENCE + " step")
        activities.add(s, user, datetime.now(timezone.utc) + timedelta(days=1), SENTENCE + " activity")
        diary.add_mood(s, user, 5, SENTENCE + " mood")
        diary.add_entry(s, user, SENTENCE + " diary")
        network.add(s, user, SENTENCE[:60], "friends", SENTENCE + " note")
        crisis_plan.add(s, user, "reasons", SENTENCE + " reason")
        meds.add(s, user, "Tromsø-pill", "grandmother dose", [time(8)], "Europe/Oslo")
        assert goal.id
    with sqlite_db.session() as s:
        assert goals.listed(s, user)[0].text == SENTENCE  # it reads back
    sqlite_db.dispose()
    db_file = Path(sqlite_db.url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))  # with WAL files
    assert b"grandmother" not in raw and "Tromsø".encode() not in raw


def test_every_english_key_has_norwegian():
    locales = Path(__file__).parents[2] / "toolbox" / "locales"
    en = _flatten(yaml.safe_load((locales / "en.yaml").read_text(encoding="utf-8")))
    nb = _flatten(yaml.safe_load((locales / "nb.yaml").read_text(encoding="utf-8")))
    assert set(en) == set(nb)
    assert all(k.startswith("toolbox.") for k in en)


def test_exercises_and_info_exist_in_both_languages():
    content = Path(__file__).parents[2] / "toolbox" / "content"
    for folder, minimum in (("exercises", 8), ("info", 4)):
        en = sorted(p.name for p in (content / folder / "en").glob("*.md"))
        nb = sorted(p.name for p in (content / folder / "nb").glob("*.md"))
        assert en == nb and len(en) >= minimum


def test_every_command_has_help_text(services):
    from toolbox.plugin import feature

    for command in feature.commands.commands:
        assert services.catalogue.has(command.help), command.name
