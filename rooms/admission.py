"""Letting a participant in (invites and the toolbox room) — shared by approval, direct
enrolment and lifting a ban."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.markup import Markdown, literal
from bot.notices import Notices
from bot.port import MatrixPort
from bot.weekhours import parse_hours
from rooms.membership import ensure_toolbox_room, invite_to_community


def help_lines(settings: Settings, lang: str | None = None) -> Markdown:
    """The emergency and help-line numbers from config, one Markdown list item each, labelled in
    ``lang`` (the community's language when None)."""
    return Markdown("\n".join(f"- {literal(n.label_in(lang or settings.language))}: **{literal(n.number)}**"
                              for n in settings.crisis.numbers))


async def admit(session: Session, port: MatrixPort, notify: Notices, user_id: str, pseudonym: str,
                community: str) -> str:
    """Invite to the space, forum and café room and make the toolbox room; returns its id.
    Call it before changing anything in the transaction: it writes only after its last await."""
    await invite_to_community(session, port, user_id, community)
    lang = notify.lang_of(user_id)
    room_id, made = await ensure_toolbox_room(session, port, user_id, notify.t(lang, "rooms.room.toolbox_name"))
    text = notify.t(lang, "rooms.enrol.welcome" if made else "rooms.enrol.welcome_back",
                    pseudonym=pseudonym, community=community)
    notify.text_to_room(room_id, text, alert=True, mentions=(user_id,))
    if made:
        # The house rules of the shared rooms come here, as a message of their own: a message posted
        # in those rooms before someone joined is one they cannot decrypt (Megolm keys are not
        # shared backwards).
        moderation = notify.speaker.settings.moderation
        hours = parse_hours(moderation.staffed_hours).said(notify.speaker.say(lang))
        notify.text_to_room(room_id, notify.t(lang, "rooms.enrol.house_rules", community=community,
                                              hours=f"{hours} ({moderation.staffed_timezone})"))
    return room_id
