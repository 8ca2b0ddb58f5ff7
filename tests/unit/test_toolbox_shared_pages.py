"""``!shared`` shows every provider view, a page at a time (issue 11, Low: not only the last 20)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.unit.test_toolbox_commands import ANN, DOC, enrol, link_provider, reply
from toolbox.models import ShareView

START = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


async def test_shared_pages_through_every_view(db, services):
    with db.session() as s:
        enrol(s)
        link_provider(s)
        for n in range(45):  # one view a day; the oldest is 1 January
            s.add(ShareView(user_id=ANN, provider_id=DOC, item="goals", shown=True,
                            viewed_at=START + timedelta(days=n)))
        s.commit()
        first = await reply(s, services, "!shared")
        assert len(re.findall(r"looked at your goals", first)) == 20
        assert "Page 1 of 3" in first and "`!shared 2`" in first
        assert first.index("14 Feb") < first.index("13 Feb")  # newest first
        assert "26 Jan" in first and "25 Jan" not in first
        last = await reply(s, services, "!shared 3")
        assert len(re.findall(r"looked at your goals", last)) == 5
        assert "Page 3 of 3" in last and "!shared 4" not in last and "Thu 1 Jan" in last
        seen = set()
        for page in (1, 2, 3):
            text = await reply(s, services, f"!shared {page}")
            seen |= {line for line in text.splitlines() if "looked at your goals" in line}
        assert len(seen) == 45  # every view, on some page
