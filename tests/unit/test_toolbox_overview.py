"""The recovery overview (issue 14, item 2): ``!overview`` as a picture and a short summary in the
person's language, kind when empty; the monthly overview on the 1st (exactly once, in the person's
zone, paused by a break); shared with a provider like any other item."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

from PIL import Image
from sqlalchemy import select

from bot.db import utcnow
from bot.markup import plain_text
from bot.models import UserPref
from schedules.jobs import Scheduler
from schedules.models import ReminderLedger
from tests.support.core import FakePort, FakeRuntime, queued
from tests.unit.test_toolbox_commands import ANN, DOC, PROVIDER_ROOM, TOOLBOX, enrol, link_provider, reply, say
from toolbox import activities, charts, crisis_plan, diary, goals, network, overview, render
from toolbox.models import Activity, OverviewMonthly
from toolbox.personal_data import erase_toolbox, toolbox_export

UTC = timezone.utc
SECRET_WORDS = ("walk every day", "Anna Berg", "music")


def seed(s, now: datetime) -> None:
    """Health: 2 goals (1 reached), 3 steps; work: 1 goal, 1 step; one goal without an area.
    Activities done lately: 2 (importance 4 and 2, enjoyment 5 and 4), plus one done long ago and
    one still open. Moods: 4 and 5 in the first month of the three, 7 and 8 in the last.
    Network: family 2, friends 1. A crisis plan, last changed 10 days ago."""
    goals.add(s, ANN, "walk every day", "health")
    goals.add(s, ANN, "sleep before midnight", "health")
    goals.add(s, ANN, "find a course", "work")
    goals.add(s, ANN, "something else")
    for n, step in ((1, "shoes"), (1, "route"), (2, "no screens"), (3, "call the school")):
        goals.add_step(s, ANN, n, step)
    goals.mark_done(s, ANN, 2)
    for days_ago, importance, enjoyment in ((5, 4, 5), (20, 2, 4), (120, 1, 1)):
        s.add(Activity(user_id=ANN, text="a walk", due_at=now - timedelta(days=days_ago),
                       done_at=now - timedelta(days=days_ago), importance=importance, enjoyment=enjoyment))
    activities.add(s, ANN, now + timedelta(days=1), "still to do")
    for days_ago, score in ((85, 4), (80, 5), (50, 6), (10, 7), (3, 8)):
        diary.add_mood(s, ANN, score, now=now - timedelta(days=days_ago))
    network.add(s, ANN, "Mum", "family")
    network.add(s, ANN, "Dad", "family")
    network.add(s, ANN, "Anna Berg", "friends")
    crisis_plan.add(s, ANN, "coping", "music")
    crisis_plan.mark_reviewed(s, ANN, (now - timedelta(days=10)).date())
    s.commit()


async def test_the_overview_in_english_is_a_picture_and_the_figures(db, services, port):
    now = utcnow()
    with db.session() as s:
        enrol(s)
        seed(s, now)
        sent = await say(s, services, "!overview")
        text, image = sent
        body = text["body"].replace("**", "")
        assert text["msgtype"] == "m.notice"
        assert "Work and education: goals 1, reached 0, steps 1; Health: goals 2, reached 1, steps 3; " \
               "Other: goals 1, reached 0, steps 0" in body
        assert "Activities done (last 3 months): 2; average importance 3.0/5, enjoyment 4.5/5" in body
        assert "Mood (last 3 months): 5 check-ins, average 6.0/10. It has gone up, from 4.5 to 7.5 on average." in body
        assert "Network by circle: Family 2, Friends 1 (3 in all)" in body
        reviewed = render.local_date(services.speaker.say("en"), (now - timedelta(days=10)).date())
        assert f"Crisis plan: last reviewed {reviewed}" in body
        # The picture: an encrypted PNG, its alt text says what it shows and nothing the person wrote.
        assert image["msgtype"] == "m.image" and image["info"]["mimetype"] == "image/png" and "file" in image
        png = Image.open(io.BytesIO(port.uploads[-1]))
        assert png.format == "PNG" and (png.width, png.height) == (image["info"]["w"], image["info"]["h"])
        assert "goals by life area" in image["body"] and "mood week by week" in image["body"]
        for secret in (*SECRET_WORDS, "6.0", "4.5"):
            assert secret not in image["body"]
        for secret in SECRET_WORDS:
            assert secret not in body


async def test_the_overview_in_norwegian_with_norwegian_chart_labels(db, services, port):
    now = utcnow()
    with db.session() as s:
        enrol(s)
        s.add(UserPref(user_id=ANN, language="nb"))
        seed(s, now)
        text, image = await say(s, services, "!overview")
        body = text["body"].replace("**", "")
        assert "Arbeid og utdanning: mål 1, nådd 0, steg 1; Helse: mål 2, nådd 1, steg 3; Annet: mål 1" in body
        assert "Aktiviteter gjort (siste 3 måneder): 2; viktighet i snitt 3,0/5, glede 4,5/5" in body
        assert "5 registreringer, i snitt 6,0/10. Det har gått opp, fra 4,5 til 7,5 i snitt." in body
        assert "Nettverk etter sirkel: Familie 2, Venner 1 (3 i alt)" in body
        assert "Kriseplan: sist gjennomgått" in body
        assert image["body"].startswith("Bedringsoversikten din som bilde")
        labels = render.overview_labels(services.speaker.say("nb"), overview.build(s, ANN, now))
        assert (labels.title, labels.mood_title, labels.areas["health"], labels.circles["family"]) == (
            "Bedringsoversikt", "Humør, snitt per uke (siste 3 måneder)", "Helse", "Familie")
        assert labels.footer.startswith("Kriseplanen sist gjennomgått: ") and labels.nothing == "Ingenting her ennå"
        assert labels.decimal == ","


async def test_an_empty_toolbox_gets_a_kind_start_and_no_empty_chart(db, services, port):
    with db.session() as s:
        enrol(s)
        (only,) = await say(s, services, "!overview")
        assert "still empty, and that is fine" in only["body"] and "!mood 1-10" in only["body"]
        assert port.uploads == []
        s.add(UserPref(user_id=ANN, language="nb"))
        s.commit()
        (only,) = await say(s, services, "!overview")
        assert "fortsatt tom, og det er helt i orden" in only["body"] and port.uploads == []


def test_the_figures_leave_out_what_is_old_and_a_flat_mood_stays_about_the_same(db, services):
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with db.session() as s:
        diary.add_mood(s, ANN, 5, now=now - timedelta(days=100))  # before the three months
        diary.add_mood(s, ANN, 6, now=now - timedelta(days=80))
        diary.add_mood(s, ANN, 6, now=now - timedelta(days=2))
        ov = overview.build(s, ANN, now)
        assert len(ov.moods) == 2 and ov.mood_trend() == (6, 6) and not ov.is_empty
        lines = plain_text(render.overview_lines(services.speaker.say("en"), ov))
        assert "2 check-ins, average 6.0/10. It has stayed about the same (6.0 to 6.0 on average)." in lines
        assert "no review recorded" not in lines and "Crisis plan: not written yet" in lines.replace("**", "")
        assert ov.network == tuple((c, 0) for c in network.CIRCLES) and ov.activities_done == 0
        assert ov.crisis_reviewed is None and crisis_plan.last_reviewed(s, ANN) is None


def test_a_written_plan_not_yet_gone_through_says_so_with_its_next_review_date(db, services):
    """The newcomer trial: a plan written, a review date set, and the overview said only "no
    review recorded yet" (as if there were nothing)."""
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with db.session() as s:
        crisis_plan.add(s, ANN, "coping", "music")
        crisis_plan.set_review(s, ANN, date(2027, 6, 1))
        en = plain_text(render.overview_lines(services.speaker.say("en"), overview.build(s, ANN, now)))
        nb = plain_text(render.overview_lines(services.speaker.say("nb"), overview.build(s, ANN, now)))
        assert "\\*" not in en  # the plan's line is filled in as text already formatted, not escaped
        en = en.replace("**", "").replace("`", "")
        assert "Crisis plan: written, not gone through yet (!crisis review goes through it with you); next review" in en
        assert "2027" in en.split("next review")[1]
        assert "Kriseplan:** skrevet, ikke gjennomgått ennå" in nb and "neste gjennomgang" in nb


def test_last_reviewed_is_the_day_of_the_last_finished_review_not_of_an_edit(db):
    with db.session() as s:
        assert crisis_plan.last_reviewed(s, ANN) is None
        crisis_plan.set_review(s, ANN, date(2027, 3, 1))
        crisis_plan.add(s, ANN, "coping", "music")
        assert crisis_plan.last_reviewed(s, ANN) is None
        crisis_plan.mark_reviewed(s, ANN, date(2026, 11, 20))
        assert crisis_plan.last_reviewed(s, ANN) == date(2026, 11, 20)


# --- shared with a provider ----------------------------------------------------------------------

async def test_a_provider_sees_the_overview_only_when_shared_and_each_view_is_logged(db, services, port):
    now = utcnow()
    with db.session() as s:
        enrol(s)
        link_provider(s)
        seed(s, now)
        refused = await say(s, services, "!view overview", sender=DOC, room=PROVIDER_ROOM)
        assert [c["body"] for c in refused] == [
            "That is not shared with you. The participant decides what to share from their toolbox."]
        assert port.uploads == []
        assert "can now see your recovery overview" in await reply(s, services, "!share overview with 1")
        assert "`overview` — recovery overview" in await reply(s, services, "!view", sender=DOC, room=PROVIDER_ROOM)
        text, image = await say(s, services, "!view overview", sender=DOC, room=PROVIDER_ROOM)
        assert "Shared recovery overview" in text["body"] and "Health: goals 2, reached 1, steps 3" in text["body"]
        assert image["msgtype"] == "m.image" and image["body"].startswith("The participant's recovery overview")
        assert len(port.uploads) == 1
        log = await reply(s, services, "!shared")
        assert "asked for your recovery overview; it was not shared" in log
        assert "looked at your recovery overview" in log
        assert "No provider can see your recovery overview any more" in await reply(s, services, "!unshare oversikt")
        assert "not shared with you" in await reply(s, services, "!view overview", sender=DOC, room=PROVIDER_ROOM)


async def test_a_shared_empty_overview_says_so_without_a_picture(db, services, port):
    with db.session() as s:
        enrol(s)
        link_provider(s)
        await reply(s, services, "!share oversikt with 1")
        (only,) = await say(s, services, "!view overview", sender=DOC, room=PROVIDER_ROOM)
        assert "nothing in the shared recovery overview yet" in only["body"] and port.uploads == []


# --- monthly -------------------------------------------------------------------------------------

FIRST = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)  # 09:00 in Oslo on the 1st


def scheduler_for(db, services) -> tuple[Scheduler, FakePort]:
    port = FakePort()
    runtime = FakeRuntime(db=db, port=port, settings=services.settings, services=services)
    scheduler = Scheduler(runtime)
    scheduler.online_since = FIRST - timedelta(days=40)
    return scheduler, port


async def sweep_at(scheduler: Scheduler, db, now: datetime) -> list[tuple[str, dict]]:
    """What one sweep at ``now`` queues, pictures made and uploaded first as the scheduler does."""
    with db.session() as s:
        before = len(queued(s))
    pictures = await scheduler._pictures(now)
    scheduler._sweep(now, pictures)
    with db.session() as s:
        return queued(s)[before:]


def overview_ledger(s) -> list[ReminderLedger]:
    return list(s.scalars(select(ReminderLedger).where(ReminderLedger.key.startswith("toolbox.overview:"))))


def opt_in(db, since: datetime, **pref) -> None:
    with db.session() as s:
        enrol(s)
        if pref:
            s.add(UserPref(user_id=ANN, **pref))
        overview.set_monthly(s, ANN, True, "Europe/Oslo", since)


async def test_monthly_overview_on_the_first_exactly_once_with_its_picture(db, services):
    opt_in(db, FIRST - timedelta(days=20))
    with db.session() as s:
        seed(s, FIRST)
    scheduler, port = scheduler_for(db, services)
    assert await sweep_at(scheduler, db, FIRST - timedelta(minutes=1)) == []
    sent = await sweep_at(scheduler, db, FIRST + timedelta(seconds=1))
    assert [room for room, _ in sent] == [TOOLBOX, TOOLBOX]
    (_, text), (_, image) = sent
    assert text["msgtype"] == "m.text" and text["m.mentions"] == {"user_ids": [ANN]}  # an alert, it notifies
    assert text["body"].startswith("📊 **Your monthly recovery overview**")
    assert "Health: goals 2, reached 1, steps 3" in text["body"] and "!overview monthly off" in text["body"]
    assert image["msgtype"] == "m.image" and image["file"]["url"] == "mxc://localhost/upload1"
    assert Image.open(io.BytesIO(port.uploads[0])).format == "PNG"
    # Once: later sweeps, a restarted scheduler, and another whole day send nothing more.
    assert await sweep_at(scheduler, db, FIRST + timedelta(seconds=30)) == []
    restarted, port2 = scheduler_for(db, services)
    assert await sweep_at(restarted, db, FIRST + timedelta(minutes=5)) == [] and port2.uploads == []
    with db.session() as s:
        (ledger,) = overview_ledger(s)
        assert ledger.key == overview.monthly_key(ANN, date(2027, 1, 1)) and ANN not in ledger.key
    # The next month, again once.
    feb = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
    assert len(await sweep_at(scheduler, db, feb + timedelta(seconds=1))) == 2


async def test_a_picture_not_uploaded_holds_the_overview_for_the_next_sweep(db, services):
    opt_in(db, FIRST - timedelta(days=20))
    with db.session() as s:
        seed(s, FIRST)
    scheduler, port = scheduler_for(db, services)
    scheduler._sweep(FIRST + timedelta(seconds=1), {})  # a sweep whose picture did not get uploaded
    with db.session() as s:
        assert queued(s) == [] and overview_ledger(s) == []
    assert len(await sweep_at(scheduler, db, FIRST + timedelta(seconds=20))) == 2


async def test_monthly_overview_in_the_persons_zone_and_language(db, services):
    opt_in(db, FIRST - timedelta(days=20), timezone="America/New_York", language="nb")
    with db.session() as s:
        seed(s, FIRST)
    scheduler, _ = scheduler_for(db, services)
    assert await sweep_at(scheduler, db, FIRST + timedelta(seconds=1)) == []  # 03:00 in New York
    nine_in_new_york = datetime(2027, 1, 1, 14, 0, tzinfo=UTC)
    assert await sweep_at(scheduler, db, nine_in_new_york - timedelta(seconds=1)) == []
    (_, text), (_, image) = await sweep_at(scheduler, db, nine_in_new_york + timedelta(seconds=1))
    assert text["body"].startswith("📊 **Den månedlige bedringsoversikten din**") and "Helse: mål 2" in text["body"]
    assert image["body"].startswith("Bedringsoversikten din som bilde")


async def test_monthly_overview_paused_by_a_break_off_when_turned_off_and_not_owed_from_before(db, services):
    opt_in(db, FIRST - timedelta(days=20), on_break=True, break_until=FIRST + timedelta(days=3))
    with db.session() as s:
        seed(s, FIRST)
    scheduler, port = scheduler_for(db, services)
    assert await sweep_at(scheduler, db, FIRST + timedelta(seconds=1)) == [] and port.uploads == []
    with db.session() as s:
        s.get(UserPref, ANN).on_break = False
    # Back from the break on the same morning: that month's overview was paused, not sent late.
    assert await sweep_at(scheduler, db, FIRST + timedelta(minutes=2)) == []
    with db.session() as s:
        assert [r.status for r in overview_ledger(s)] == ["paused"]
    with db.session() as s:
        overview.set_monthly(s, ANN, False, "")
    assert await sweep_at(scheduler, db, datetime(2027, 2, 1, 8, 0, 1, tzinfo=UTC)) == []
    with db.session() as s:  # turned on again after the morning of the 1st: nothing owed until next month
        overview.set_monthly(s, ANN, True, "Europe/Oslo", datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    assert await sweep_at(scheduler, db, datetime(2027, 3, 1, 10, 0, 5, tzinfo=UTC)) == []
    assert len(await sweep_at(scheduler, db, datetime(2027, 4, 1, 7, 0, 1, tzinfo=UTC))) == 2  # summer time


async def test_an_empty_toolbox_gets_the_kind_text_monthly_and_no_picture(db, services):
    opt_in(db, FIRST - timedelta(days=20))
    scheduler, port = scheduler_for(db, services)
    ((room, text),) = await sweep_at(scheduler, db, FIRST + timedelta(seconds=1))
    assert room == TOOLBOX and text["msgtype"] == "m.text" and "still empty, and that is fine" in text["body"]
    assert port.uploads == []


async def test_overview_monthly_command_export_and_erasure(db, services):
    with db.session() as s:
        enrol(s)
        on = await reply(s, services, "!overview monthly on")
        assert "on the 1st of each month at 09:00 (Europe/Oslo)" in on
        assert toolbox_export(s, ANN)["overview_monthly"]["on"] is True
        assert toolbox_export(s, ANN)["overview_monthly"]["zone"] == "Europe/Oslo"
        assert "No more monthly overviews" in await reply(s, services, "!overview monthly av")
        assert toolbox_export(s, ANN)["overview_monthly"] == {"on": False, "zone": None, "since": None}
        assert "on the 1st of each month" in await reply(s, services, "!overview monthly på")
        assert "Usage: `!overview monthly on|off`" in await reply(s, services, "!overview monthly maybe")
        erase_toolbox(s, ANN)
        assert s.scalars(select(OverviewMonthly)).all() == []


def test_the_next_monthly_overview_is_the_first_ahead(db):
    from zoneinfo import ZoneInfo

    oslo = ZoneInfo("Europe/Oslo")
    assert overview.next_monthly(oslo, datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert overview.next_monthly(oslo, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    assert overview.next_monthly(oslo, datetime(2027, 3, 15, tzinfo=UTC)) == datetime(2027, 4, 1, 7, 0, tzinfo=UTC)


async def test_a_failed_upload_waits_for_the_next_sweep_and_a_broken_drawing_leaves_the_text(db, services,
                                                                                              monkeypatch):
    opt_in(db, FIRST - timedelta(days=20))
    with db.session() as s:
        seed(s, FIRST)
    scheduler, port = scheduler_for(db, services)

    async def homeserver_down(data, mimetype, filename):
        raise ConnectionError("no homeserver")

    monkeypatch.setattr(port, "upload", homeserver_down)
    assert await sweep_at(scheduler, db, FIRST + timedelta(seconds=1)) == []
    with db.session() as s:
        assert overview_ledger(s) == []
    monkeypatch.undo()

    def broken(*args, **kwargs):
        raise ValueError("matplotlib had a bad day")

    monkeypatch.setattr(charts, "overview_chart", broken)
    ((_, text),) = await sweep_at(scheduler, db, FIRST + timedelta(seconds=21))
    assert text["msgtype"] == "m.text" and "Health: goals 2" in text["body"]
    assert await sweep_at(scheduler, db, FIRST + timedelta(seconds=41)) == []
