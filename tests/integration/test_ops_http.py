"""Operations: the bot run from its command line with ``http`` enabled on a loopback port serves
/healthz (sync alive, age of the last sync, database) and Prometheus /metrics."""

from __future__ import annotations

import json
import re

import aiohttp

from bot.localsynapse import free_port
from tests.integration.test_reliability_crash import start_bot_process


def metric(text: str, name: str, labels: str = "") -> float | None:
    """The value of one sample in Prometheus text format (None when absent)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    m = re.search(pattern, text, re.MULTILINE)
    return float(m.group(1)) if m else None


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.text()


async def test_healthz_and_metrics(synapse, staff, make_user, tmp_path):
    port = free_port()
    proc = await start_bot_process(synapse, staff, tmp_path, http_port=port)
    try:
        base = f"http://127.0.0.1:{port}"
        user = await make_user("ops")
        room = await user.dm(proc.user_id)
        for body in ("!help", "!whoami", "!help"):
            assert (await user.ask(room, body, proc.user_id)).decrypted

        status, ctype, body = await get(f"{base}/healthz")
        assert status == 200 and ctype.startswith("application/json")
        health = json.loads(body)
        assert health["ok"] is True and health["sync_alive"] is True and health["database"] is True
        assert 0 <= health["last_sync_age_seconds"] < 60

        status, ctype, text = await get(f"{base}/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert metric(text, "reconnect_events_handled_total", 'type="m.room.message"') >= 3
        assert metric(text, "reconnect_commands_total", 'command="help"') == 2
        assert metric(text, "reconnect_commands_total", 'command="whoami"') == 1
        assert metric(text, "reconnect_reply_latency_seconds_count") >= 3
        assert metric(text, "reconnect_reply_latency_seconds_bucket", 'le="+Inf"') >= 3
        assert metric(text, "reconnect_send_queue_depth") == 0
        assert metric(text, "reconnect_undecryptable_events_total") == 0
        assert "# TYPE reconnect_reminders_total counter" in text
        assert metric(text, "reconnect_messages_sent_total") >= 3
        # Nothing personal in metrics: no user ids, no message text.
        assert user.user_id not in text and "whoami" in text
    finally:
        proc.stop()
