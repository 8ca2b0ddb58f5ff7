"""Run every benchmark once and print a summary table (``make bench``).

Defaults fit a few minutes on a small machine: latency with 200 messages to each bot (the full
size), fan-out with 100 reminders and scale with 200 toolbox rooms and a forum of 60 members.
``--full`` runs the issue's sizes (500 reminders; 1,000 rooms and a forum of 300), which takes
much longer, mostly to build the rooms.

    .venv/bin/python -m bench.run_all [--full]
"""

from __future__ import annotations

import argparse

from bench import dispatch, fanout, latency, scale
from bench.common import print_table, write_result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the issue's full sizes (slow)")
    args = parser.parse_args(argv)
    rooms, forum, reminders = (1000, 300, 500) if args.full else (200, 60, 100)
    lat = latency.main(["--n", "200"])
    fan = fanout.main(["--n", str(reminders)])
    sc = scale.main(["--rooms", str(rooms), "--forum", str(forum), "--postgres", "--synapse-postgres"])
    dis = dispatch.main(["--n", "1500"])
    rows = [
        ("reply latency p50 (ReConnect / echo)", f"{lat['reconnect']['p50_ms']} / {lat['echo']['p50_ms']} ms",
         f"×{lat['p50_ratio']}", "≤ ×1.2"),
        ("reply latency p95 (ReConnect / echo)", f"{lat['reconnect']['p95_ms']} / {lat['echo']['p95_ms']} ms",
         f"×{lat['p95_ratio']}", ""),
        (f"fan-out {fan['rooms']} reminders (ReConnect / plain)",
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
