"""Small things every toolbox command module shares: where the commands run, the person's
zone, and sending a rendered picture as an encrypted attachment."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.models import Role, RoomKind
from toolbox.charts import Png
from toolbox.zones import person_zone

# Every personal command: only the participant, only in their own toolbox room.
PRIVATE: dict[str, Any] = {"rooms": {RoomKind.TOOLBOX}, "roles": {Role.PARTICIPANT}}


def zone_of(ctx: Context) -> ZoneInfo:
    return person_zone(ctx.session, ctx.settings, ctx.sender)


async def send_png(ctx: Context, png: Png, filename: str, alt_text: str) -> None:
    uploaded = await ctx.port.upload(png.data, "image/png", filename)
    ctx.send_file(ctx.room_id, uploaded, filename=filename, mimetype="image/png", size=len(png.data),
                  alt_text=alt_text, width=png.width, height=png.height)
