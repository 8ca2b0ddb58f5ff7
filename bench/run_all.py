"""Run every benchmark once and print a summary table (``make bench``).

By default the issue's sizes: latency with 200 messages to each bot, fan-out with 500 reminders,
scale with 1,000 toolbox rooms and a forum of 300 (on SQLite, with the bot on PostgreSQL, and with
both the bot and Synapse on PostgreSQL), dispatch with 1,500 commands per database: about 25
minutes on a 2-CPU machine, mostly building the rooms. ``--quick`` uses 100 reminders and 200
rooms with a forum of 60 (a few minutes).

    .venv/bin/python -m bench.run_all [--quick]
"""

from __future__ import annotations

import argparse

from bench import dispatch, fanout, latency, scale
from bench.common import print_table, write_result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    args = parser.parse_args(argv)
    rooms, forum, reminders = (200, 60, 100) if args.quick else (1000, 300, 500)
    lat = latency.main(["--n", "200"])
    fan = fanout.main(["--n", str(reminders)])
    sc = scale.main(["--rooms", str(rooms), "--forum", str(forum), "--postgres", "--synapse-postgres"])
    dis = dispatch.main(["--n", "1500"])
    rows = [
        ("reply latency p50 (ReConnect / echo)", f"{lat['reconnect']['p50_ms']} / {lat['echo']['p50_ms']} ms",
         f"×{lat['p50_ratio']}", "≤ ×1.2"),
        ("reply latency p95 (ReConnect / echo)", f"{lat['reconnect']['p95_ms']} / {lat['echo']['p95_ms']} ms",
         f"×{lat['p95_ratio']}", ""),
        (f"fan-out {fan['rooms']} reminders (ReConnect, {fan['bot_send_concurrency']} rooms at a time / "
         "plain client, one after another)",
         f"{fan['reconnect_due_to_last_seconds']} / {fan['plain_client_seconds']} s", f"×{fan['ratio']}",
         f"≤ ×1.2; lost {fan['lost']}, doubled {fan['doubled']}"),
    ]
    for db, r in sc.items():
        rows.append((f"scale {r['rooms']} rooms, forum {r['forum_members']} ({db}): first reply",
                     f"{r['start_to_first_reply_seconds']} s", "", "≤ 10 s"))
        rows.append((f"scale ({db}): RSS after activity", f"{r['rss_mb_after_activity']} MB", "", "≤ 250 MB"))
    for db, r in dis.items():
        if "per_second" in r:
            rows.append((f"dispatch toolbox commands ({db})", f"{r['per_second']} /s", "", ""))
    print_table("Summary", ("measure", "value", "ratio", "target"), rows)
    write_result("summary", {"rows": [list(r) for r in rows]})


if __name__ == "__main__":
    main()
