"""A line to the peer consultants: ``!contact TEXT`` from the direct chat or toolbox goes to the
consultant room under the pseudonym, one thread per person; ``!answer PSEUDONYM TEXT`` answers
privately.

The person's text is shown only in the consultant room (encrypted like every room the bot makes);
the database keeps no copy of it, only which thread is theirs.
"""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.errors import Invalid
from bot.models import EnrolmentStatus, Participant, Role, RoomKind, SentEvent
from bot.notices import consultants_to_alert
from bot.roomdir import find_room
from bot.router import PRIVATE_ROOMS, rest
from rooms.directchat import private_room_of, remember
from rooms.feature import feature
from rooms.models import ContactThread
from rooms.targets import split_target

commands = feature.commands
STAFF_ROOMS = {RoomKind.CONSULTANT, RoomKind.DIRECT}
STAFF = {Role.CONSULTANT}
MAX_TEXT = 2000


@commands.command("contact", rest("text", max_len=MAX_TEXT), rooms=PRIVATE_ROOMS,
                  roles={Role.PARTICIPANT, Role.FORMER, Role.GUEST}, help="rooms.help.contact", usage="TEXT")
async def contact(ctx: Context, text: str) -> None:
    me = ctx.session.get(Participant, ctx.sender)
    if me is None or not me.pseudonym or me.status == EnrolmentStatus.STARTED.value:
        raise Invalid("rooms.contact.need_pseudonym")
    text = text.strip()
    if not text:
        raise Invalid("rooms.contact.empty")
    consultants = find_room(ctx.session, RoomKind.CONSULTANT)
    if consultants is None:
        raise Invalid("rooms.contact.no_room")
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    thread = ctx.session.get(ContactThread, ctx.sender)
    if thread is None:
        body = ctx.t("rooms.contact.opened", lang=ctx.settings.language, pseudonym=me.pseudonym,
                     text=text)
        txn = ctx.send_text(consultants.room_id, body, alert=True, mentions=consultants_to_alert(ctx.settings))
        ctx.session.add(ContactThread(user_id=ctx.sender, root_txn=txn))
    else:
        root = ctx.session.get(SentEvent, thread.root_txn)
        body = ctx.t("rooms.contact.more", lang=ctx.settings.language, pseudonym=me.pseudonym, text=text)
        ctx.send_text(consultants.room_id, body, alert=True, mentions=consultants_to_alert(ctx.settings),
                      thread_root=root.event_id if root is not None else None)
        thread.last_at = utcnow()
    ctx.session.flush()
    ctx.reply("rooms.contact.sent")


@commands.command("answer", rest("text", max_len=MAX_TEXT), rooms=STAFF_ROOMS, roles=STAFF,
                  help="rooms.help.answer", usage="PSEUDONYM TEXT")
async def answer(ctx: Context, text: str) -> None:
    p, message = split_target(ctx.session, text)
    message = message.strip()
    if not message:
        raise Invalid("rooms.contact.answer_text")
    room_id = private_room_of(ctx.session, p.user_id)
    if room_id is None:
        raise Invalid("rooms.mod.no_private_room", pseudonym=p.pseudonym)
    body = ctx.speaker.t(ctx.speaker.lang_of(ctx.session, p.user_id), "rooms.contact.answered_you",
                         text=message)
    ctx.send_text(room_id, body, alert=True, mentions=(p.user_id,))
    ctx.reply("rooms.contact.answer_sent", pseudonym=p.pseudonym)
