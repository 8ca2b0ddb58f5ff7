"""Commands for the person's own lists: goals, activities, mood and diary, network, crisis
plan, medications. Thin handlers: parse, call the domain, render."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.errors import NotFound
from bot.router import choice, integer, rest, word
from bot.timephrase import parse_date, split_when
from bot.zones import zone_name
from toolbox import activities, crisis_plan, diary, goals, meds, network, render
from toolbox.ctxutil import PRIVATE, WHEN_KEYS, zone_of
from toolbox.limits import DIARY_MAX, TEXT_MAX
from toolbox.pictures import send_mood_chart, send_network_map
from toolbox.plugin import feature

command = feature.commands.command
# Room for "AREA:" or a WHEN phrase in front of the text; the domain checks the text's own limit.
PREFIXED_MAX = TEXT_MAX + 40


# --- goals ---------------------------------------------------------------------------------------

@command("goal add", rest("text", max_len=PREFIXED_MAX), usage="[AREA:] TEXT", help="toolbox.help.goal_add", **PRIVATE)
async def goal_add(ctx: Context, text: str) -> None:
    area, rest_text = goals.split_area(text)
    goal = goals.add(ctx.session, ctx.sender, rest_text, area)
    ctx.reply("toolbox.goal.added", n=len(goals.listed(ctx.session, ctx.sender)), text=render.plain(goal.text))


@command("goals", help="toolbox.help.goals", **PRIVATE)
async def goals_list(ctx: Context) -> None:
    rows = goals.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.goal.empty")
        return
    ctx.reply("toolbox.goal.list", goals=render.goals(ctx.t, ctx.session, rows))


@command("goal done", integer("n", min=1), help="toolbox.help.goal_done", **PRIVATE)
async def goal_done(ctx: Context, n: int) -> None:
    goal = goals.mark_done(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.goal.done", n=n, text=render.plain(goal.text))


@command("goal edit", integer("n", min=1), rest("text", max_len=PREFIXED_MAX), usage="N [AREA:] TEXT",
         help="toolbox.help.goal_edit", **PRIVATE)
async def goal_edit(ctx: Context, n: int, text: str) -> None:
    goal = goals.edit(ctx.session, ctx.sender, n, text)
    ctx.reply("toolbox.goal.edited", n=n, text=render.plain(goal.text))


@command("goal delete", integer("n", min=1), help="toolbox.help.goal_delete", **PRIVATE)
async def goal_delete(ctx: Context, n: int) -> None:
    goal = goals.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.goal.deleted", text=render.plain(goal.text))


@command("goal step", integer("n", min=1), rest("text", max_len=TEXT_MAX), help="toolbox.help.goal_step", **PRIVATE)
async def goal_step(ctx: Context, n: int, text: str) -> None:
    goal, step = goals.add_step(ctx.session, ctx.sender, n, text)
    ctx.reply("toolbox.goal.step_added", n=n, goal=render.plain(goal.text), text=render.plain(step.text))


# --- activities ----------------------------------------------------------------------------------

@command("activity add", rest("text", max_len=PREFIXED_MAX), usage="WHEN TEXT", help="toolbox.help.activity_add",
         **PRIVATE)
async def activity_add(ctx: Context, text: str) -> None:
    zone = zone_of(ctx)
    due_at, what = split_when(text, zone, utcnow(), WHEN_KEYS)
    if not what:
        ctx.reply("toolbox.activity.no_text")
        return
    activity = activities.add(ctx.session, ctx.sender, due_at, what)
    ctx.reply("toolbox.activity.added", text=render.plain(activity.text), when=render.local_time(ctx.t, due_at, zone))


@command("activities", help="toolbox.help.activities", **PRIVATE)
async def activities_list(ctx: Context) -> None:
    rows = activities.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.activity.empty")
        return
    ctx.reply("toolbox.activity.list", activities=render.activities(ctx.t, rows, zone_of(ctx)))


@command("activity done", integer("n", min=1), integer("importance", min=1, max=5, optional=True),
         integer("enjoyment", min=1, max=5, optional=True), usage="N [IMPORTANCE 1-5] [ENJOYMENT 1-5]",
         help="toolbox.help.activity_done", **PRIVATE)
async def activity_done(ctx: Context, n: int, importance: int | None, enjoyment: int | None) -> None:
    activity = activities.mark_done(ctx.session, ctx.sender, n, importance, enjoyment)
    key = "toolbox.activity.done_rated" if importance or enjoyment else "toolbox.activity.done"
    ctx.reply(key, text=render.plain(activity.text), importance=importance or "–", enjoyment=enjoyment or "–")


@command("activity delete", integer("n", min=1), help="toolbox.help.activity_delete", **PRIVATE)
async def activity_delete(ctx: Context, n: int) -> None:
    activity = activities.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.activity.deleted", text=render.plain(activity.text))


# --- mood and diary ------------------------------------------------------------------------------

@command("mood", integer("score", min=1, max=10), rest("note", max_len=TEXT_MAX, optional=True),
         help="toolbox.help.mood", **PRIVATE)
async def mood(ctx: Context, score: int, note: str | None) -> None:
    diary.add_mood(ctx.session, ctx.sender, score, note)
    ctx.reply("toolbox.mood.saved", score=score)


@command("moods", help="toolbox.help.moods", **PRIVATE)
async def moods_chart(ctx: Context) -> None:
    entries = diary.recent_moods(ctx.session, ctx.sender)
    if not entries:
        ctx.reply("toolbox.mood.none")
        return
    await send_mood_chart(ctx, entries, zone_of(ctx))


@command("diary", rest("text", max_len=DIARY_MAX, optional=True), help="toolbox.help.diary", **PRIVATE)
async def diary_entry(ctx: Context, text: str | None) -> None:
    if text:
        diary.add_entry(ctx.session, ctx.sender, text)
        ctx.reply("toolbox.diary.saved")
        return
    entries = diary.recent_entries(ctx.session, ctx.sender)
    if not entries:
        ctx.reply("toolbox.diary.empty")
        return
    zone = zone_of(ctx)
    body = "\n\n".join(f"**{render.local_time(ctx.t, e.created_at, zone)}**\n{render.plain(e.text)}" for e in entries)
    ctx.reply("toolbox.diary.list", entries=body)


# --- network -------------------------------------------------------------------------------------

@command("network add", rest("text", max_len=PREFIXED_MAX), usage="NAME CIRCLE [NOTE]", help="toolbox.help.network_add",
         **PRIVATE)
async def network_add(ctx: Context, text: str) -> None:
    name, circle, note = network.parse_entry(text)
    contact = network.add(ctx.session, ctx.sender, name, circle, note)
    ctx.reply("toolbox.network.added", name=render.plain(contact.name), circle=ctx.t(f"toolbox.circle.{circle}"))


@command("network", help="toolbox.help.network", **PRIVATE)
async def network_list(ctx: Context) -> None:
    rows = network.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.network.empty")
        return
    ctx.reply("toolbox.network.list", network=render.network(ctx.t, rows))


@command("network remove", integer("n", min=1), help="toolbox.help.network_remove", **PRIVATE)
async def network_remove(ctx: Context, n: int) -> None:
    contact = network.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.network.removed", name=render.plain(contact.name))


@command("network map", help="toolbox.help.network_map", **PRIVATE)
async def network_map(ctx: Context) -> None:
    rows = network.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.network.empty")
        return
    await send_network_map(ctx, rows, own=True)


# --- crisis plan ---------------------------------------------------------------------------------

@command("crisis", help="toolbox.help.crisis", crisis_exempt=True, **PRIVATE)
async def crisis_show(ctx: Context) -> None:
    numbers = "\n".join(f"- {n.label}: **{n.number}**" for n in ctx.settings.crisis.numbers)
    if crisis_plan.is_empty(ctx.session, ctx.sender):
        ctx.reply("toolbox.crisis.empty", numbers=numbers)
        return
    today = utcnow().astimezone(zone_of(ctx)).date()
    plan = render.crisis_plan(ctx.t, crisis_plan.items(ctx.session, ctx.sender),
                              crisis_plan.meta(ctx.session, ctx.sender), today)
    ctx.reply("toolbox.crisis.show", plan=plan, numbers=numbers)


@command("crisis add", word("section"), rest("text", max_len=TEXT_MAX), help="toolbox.help.crisis_add",
         crisis_exempt=True, **PRIVATE)
async def crisis_add(ctx: Context, section: str, text: str) -> None:
    section_id, text = crisis_plan.split_section(section, text)
    crisis_plan.add(ctx.session, ctx.sender, section_id, text)
    ctx.reply("toolbox.crisis.added", section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis remove", word("section"), integer("n", min=1), help="toolbox.help.crisis_remove",
         crisis_exempt=True, **PRIVATE)
async def crisis_remove(ctx: Context, section: str, n: int) -> None:
    section_id = crisis_plan.section_of(section)
    try:
        item = crisis_plan.remove(ctx.session, ctx.sender, section_id, n)
    except NotFound as err:
        # Name the section in the reader's language, which the domain cannot.
        raise NotFound(err.key, section=ctx.t(f"toolbox.section.{section_id}"), **err.params) from None
    ctx.reply("toolbox.crisis.removed", text=render.plain(item.text), section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis review", rest("date", max_len=40), help="toolbox.help.crisis_review", crisis_exempt=True,
         **PRIVATE)
async def crisis_review(ctx: Context, date: str) -> None:
    zone = zone_of(ctx)
    day = parse_date(date, zone, utcnow(), WHEN_KEYS)
    crisis_plan.set_review(ctx.session, ctx.sender, day)
    ctx.reply("toolbox.crisis.review_set", date=render.local_date(ctx.t, day))


# --- medications ---------------------------------------------------------------------------------

@command("meds", help="toolbox.help.meds", **PRIVATE)
async def meds_list(ctx: Context) -> None:
    rows = meds.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.med.empty")
        return
    ctx.reply("toolbox.med.list", meds=render.meds(ctx.t, rows))


@command("med add", rest("text", max_len=PREFIXED_MAX), usage="NAME DOSE [TIMES]", help="toolbox.help.med_add",
         **PRIVATE)
async def med_add(ctx: Context, text: str) -> None:
    name, dose, times = meds.parse_entry(text)
    med = meds.add(ctx.session, ctx.sender, name, dose, times, zone_name(ctx.session, ctx.settings, ctx.sender))
    if times:
        ctx.reply("toolbox.med.added_reminders", name=render.plain(med.name), times=med.times.replace(",", ", "),
                  n=len(meds.listed(ctx.session, ctx.sender)))
    else:
        ctx.reply("toolbox.med.added", name=render.plain(med.name))


@command("med remove", integer("n", min=1), help="toolbox.help.med_remove", **PRIVATE)
async def med_remove(ctx: Context, n: int) -> None:
    med = meds.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.med.removed", name=render.plain(med.name))


@command("med remind", integer("n", min=1), choice("switch", ("on", "off")), help="toolbox.help.med_remind", **PRIVATE)
async def med_remind(ctx: Context, n: int, switch: str) -> None:
    med = meds.set_reminders(ctx.session, ctx.sender, n, switch == "on")
    ctx.reply("toolbox.med.remind_on" if med.remind else "toolbox.med.remind_off", name=render.plain(med.name))
