"""Arguments that do not fit get ONE message (the newcomer trial got two, and words like ``SCORE``
or ``[AREA:]`` with nothing saying what they mean): what was wrong, the right usage, what each
argument word means in words, and an example; in the reader's language."""

from __future__ import annotations

from bot.models import UserPref
from tests.unit.test_toolbox_commands import ANN, enrol, say


async def test_a_usage_error_is_one_message_explaining_the_words(db, services):
    with db.session() as s:
        enrol(s)
        (only,) = await say(s, services, "!mood")
        text = only["body"]
        assert text.startswith("Something is missing: `SCORE`.")
        assert "Usage: `!mood SCORE [NOTE]`" in text
        assert "`SCORE` — how you feel, from 1 (very low) to 10 (very good)" in text
        assert "`NOTE` — a few words (optional)" in text
        assert "For example: `!mood 6 slept better`" in text
        assert only["msgtype"] == "m.notice"
        (only,) = await say(s, services, "!goal add")
        assert "`AREA:` — a life area (optional): work, housing, network, health or leisure" in only["body"]
        assert "`TEXT` — your text" in only["body"]
        # An optional word named alone loses its brackets: it is the word itself that is wrong.
        (only,) = await say(s, services, "!activity done 1 9")
        assert only["body"].startswith("`IMPORTANCE` should be a number from 1 to 5."), only["body"]
        assert "`IMPORTANCE` — how important it felt" in only["body"]


async def test_a_usage_error_in_norwegian_explains_the_words_in_norwegian(db, services):
    with db.session() as s:
        enrol(s)
        s.merge(UserPref(user_id=ANN, language="nb"))
        s.commit()
        (only,) = await say(s, services, "!mood 11")
        text = only["body"]
        assert text.startswith("`SKÅR` skal være et tall fra 1 til 10.")
        assert "Bruk: `!mood SKÅR [NOTAT]`" in text and "Hva ordene betyr:" in text
        assert "- `SKÅR` — " in text and "For eksempel: `!mood " in text
        for english in ("SCORE", "Usage", "What the words", "For example"):
            assert english not in text, english
