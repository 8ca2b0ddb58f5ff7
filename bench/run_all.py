"""Run every benchmark and print the issue's table: measure | figure | target | met? (``make bench``).

Each ratio is measured side by side within its benchmark's run. What runs:

- reply latency against the echo bot, ``LATENCY_RUNS`` times (``bench.latency --n 200``);
- one participant flooding 300 commands (``bench.flood``);
- command cost as the population grows, 100 vs 2,500 participants, SQLite and PostgreSQL
  (``bench.dispatch --populations 100,2500``);
- start-up, RSS and fan-out through the scale and fan-out benchmarks' entry points; their rows are
  their results (see ``EXTERNAL``).

For every missed target, a "What limits it" section under the table gives what the same run
measured about the limit (``bench.limits``): the latency runs carry timing spans in both bots
(``--spans``), the flood its control, the start-up and fan-out a py-spy profile of the bot taken
while it is measured (``--profile``: sampling from outside the process; ``--no-profile`` leaves it
out), and names the dominant component with what would move it.

Everything is also written to ``bench/results/summary.json``. ``--quick`` uses smaller sizes (a
few minutes); ``--only latency,flood`` runs a subset; ``--synapse KIND`` is passed on to every
benchmark that declares ``SYNAPSE_OPTION = True`` (the workers setup).

    .venv/bin/python -m bench.run_all [--quick] [--only NAMES] [--synapse workers] [--no-profile]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench import limits
from bench.common import RESULTS, print_table, write_result

LATENCY_RUNS = 3
PROFILE_HZ = {"startup": 100, "fanout": 50}  # bench.scale's and bench.fanout's py-spy rates
STARTUP_PROFILE_S = 10.0  # bench.scale --profile records the bot's first 10 s


@dataclass
class Row:
    measure: str
    figure: str
    target: str
    met: bool | None  # None: not measured here (or not a target)

    def cells(self) -> tuple[str, str, str, str]:
        return (self.measure, self.figure, self.target, {True: "met", False: "MISSED", None: "-"}[self.met])


# --- start-up, RSS and fan-out: bench.scale and bench.fanout on the kept population ---------------
# Both take the same population options, so they share one snapshot (bench/cache/, built once:
# 28 min at the size on a quiet 2-core machine, 88 min on a busy one, then restored in seconds).
POPULATION_QUICK = ["--participants", "200", "--forum", "60", "--cafes", "2", "--providers", "5"]
EXTERNAL: dict[str, dict[str, Any]] = {
    "startup": {"module": "bench.scale", "argv": [], "quick_argv": POPULATION_QUICK, "result": "scale"},
    "fanout": {"module": "bench.fanout", "argv": ["--n", "2000"], "quick_argv": ["--n", "100", *POPULATION_QUICK],
               "result": "fanout"},
}
TARGET_FIRST_REPLY_S = 5.0
TARGET_RSS_MB = 300.0
TARGET_FANOUT_RATIO = 1.0


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def startup_rows(data: dict[str, Any] | None) -> list[Row]:
    """Start → first reply and RSS, from ``bench.scale``'s result."""
    if not data:
        return [Row("start → first reply, 10,000 rooms [scale failed]", "-", f"≤ {TARGET_FIRST_REPLY_S:g} s", False),
                Row("RSS after an hour of activity [scale failed]", "-", f"≤ {TARGET_RSS_MB:g} MB, flat", False)]
    first, rss = data["first_reply_s"], data["rss_mb"]
    slope, window = data.get("rss_slope_mb_per_min"), data.get("rss_slope_window_min")
    size = f"{data['rooms']:,} rooms, {data['participants']:,} participants"
    return [Row(f"start → first reply ({size})", f"{first} s", f"≤ {TARGET_FIRST_REPLY_S:g} s",
                first <= TARGET_FIRST_REPLY_S),
            Row(f"RSS after the activity ({size})",
                f"{rss} MB" + (f"; slope {slope} MB/min over the last {window} min" if slope is not None else ""),
                f"≤ {TARGET_RSS_MB:g} MB, flat over the last 30 min", rss <= TARGET_RSS_MB)]


def fanout_rows(data: dict[str, Any] | None) -> list[Row]:
    """Café reminder fan-out, from ``bench.fanout``'s result."""
    target = f"≤ {TARGET_FANOUT_RATIO:g}× a plain client; 0 lost, 0 doubled"
    if not data:
        return [Row("café reminder fan-out to 2,000 people [fanout failed]", "-", target, False)]
    ok = data["fanout_ratio"] <= TARGET_FANOUT_RATIO and data["lost"] == 0 and data["doubled"] == 0
    return [Row(f"café reminder fan-out to {data['n']:,} people",
                f"{data['bot_s']} s vs plain client {data['plain_s']} s: ×{data['fanout_ratio']}; "
                f"lost {data['lost']}, doubled {data['doubled']}", target, ok)]


# --- this branch's benchmarks ---------------------------------------------------------------------

def latency_rows(runs: list[dict[str, Any]]) -> list[Row]:
    from bench.latency import TARGET_P50_RATIO

    ratios = [r["p50_ratio"] for r in runs]
    figure = "; ".join(f"run {i}: {r['reconnect']['p50_ms']} vs {r['echo']['p50_ms']} ms ×{r['p50_ratio']}"
                       for i, r in enumerate(runs, 1))
    return [Row(f"reply latency p50 vs the echo bot ({len(runs)} runs of {runs[0]['messages_each']} each)", figure,
                f"≤ {TARGET_P50_RATIO:g}× in {LATENCY_RUNS} runs",
                len(runs) >= LATENCY_RUNS and all(x <= TARGET_P50_RATIO for x in ratios)),
            Row("reply latency p95 vs the echo bot (same runs)",
                ", ".join(f"×{r['p95_ratio']}" for r in runs) + f" (median ×{statistics.median(r['p95_ratio'] for r in runs)})",
                "-", None)]


def dispatch_rows(pop: dict[str, Any], sizes: list[int]) -> list[Row]:
    from bench.dispatch import TARGET_RATIO

    small, large = min(sizes), max(sizes)
    rows = []
    for engine, r in pop.items():
        if "skipped" in r:
            rows.append(Row(f"commands/s at {large} participants vs {small} ({engine})", r["skipped"],
                            f"≥ {TARGET_RATIO:g}×", None))
            continue
        rows.append(Row(f"commands/s at {large} participants vs {small} ({engine})",
                        f"{r[str(large)]['per_second']} vs {r[str(small)]['per_second']} /s: ×{r['ratio']}",
                        f"≥ {TARGET_RATIO:g}×", r["ratio"] >= TARGET_RATIO))
        plans = r.get("plans")
        if plans:
            scans = plans["big_table_seq_scans"]
            rows.append(Row(f"queries scanning a table that grows ({engine}, {plans['statements']} statements EXPLAINed)",
                            f"{len(scans)}" + (f": {', '.join(sorted({s['table'] for s in scans}))}" if scans else ""),
                            "0 (no query grows with people or rooms)", not scans))
            rows.append(Row(f"slowest query at {large} participants ({engine}; plan in summary.json)",
                            f"{plans['slowest']['mean_ms']} ms: {plans['slowest']['sql'][:70]}…", "-", None))
    return rows


def flood_rows(r: dict[str, Any]) -> list[Row]:
    from bench.flood import TARGET_P95_RATIO

    return [Row(f"one participant flooding {r['flood']} commands: others' reply p95 ({r['probers']} people)",
                f"{r['flooded']['p95_ms']} ms flooded vs {r['quiet']['p95_ms']} ms quiet: ×{r['p95_ratio']}",
                f"≤ {TARGET_P95_RATIO:g}× quiet", r["p95_ratio"] <= TARGET_P95_RATIO)]


def run(name: str, module: str, argv: list[str], synapse: str | None) -> dict[str, Any] | None:
    """``module.main(argv)``, with ``--synapse`` passed on when the benchmark takes it; None when
    it failed (the table says so, the other benchmarks still run)."""
    mod = importlib.import_module(module)
    if synapse and getattr(mod, "SYNAPSE_OPTION", False):
        argv = [*argv, "--synapse", synapse]
    try:
        main: Callable[[list[str]], dict[str, Any]] = mod.main
        return main(argv)
    except Exception:  # noqa: BLE001 - one failing benchmark does not hide the others' figures
        print(f"\n{name} failed:\n{traceback.format_exc()}", flush=True)
        return None


ALL = ("latency", "flood", "dispatch", "startup", "fanout")


def read_profile(path: Path | None) -> list[limits.Stack] | None:
    if path is None or not path.exists():
        return None
    return limits.parse_folded(path.read_text(errors="replace"))


def missed(rows: list[Row]) -> bool:
    return any(r.met is False for r in rows)


def explain(name: str, data: Any, rows: list[Row], extra: dict[str, Any]) -> list[limits.Limit]:
    """What limits each missed target of benchmark ``name``, from its result ``data`` (and the
    profile in ``extra``). A failed benchmark has nothing to explain but its traceback."""
    if not missed(rows):
        return []
    if not data:
        return [limits.Limit(rows[0].measure, "the benchmark failed", ["see its traceback above"], "fix the failure")]
    try:
        if name == "latency":
            return [limits.latency_limit(data)]
        if name == "flood":
            from bench.flood import TARGET_P95_RATIO

            return [limits.flood_limit(data, TARGET_P95_RATIO)]
        if name == "dispatch":
            from bench.dispatch import TARGET_RATIO

            return [limits.dispatch_limit(engine, r, extra["sizes"]) for engine, r in data.items()
                    if "skipped" not in r and r["ratio"] < TARGET_RATIO]
        if name == "fanout":
            return [limits.fanout_limit(data, read_profile(extra.get("profile")), extra.get("how", ""))]
        if name == "startup":
            out = []
            if not data["first_reply_met"]:
                out.append(limits.startup_limit(data, read_profile(extra.get("profile")), extra.get("how", ""),
                                                STARTUP_PROFILE_S))
            if not data["rss_met"]:
                out.append(limits.rss_limit(data, TARGET_RSS_MB))
            return out
    except Exception:  # noqa: BLE001 - the figures stand even if their explanation fails
        return [limits.Limit(rows[0].measure, "not explained", [traceback.format_exc(limit=3)], "-")]
    return []


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {', '.join(ALL)}")
    parser.add_argument("--synapse", default=None, metavar="KIND",
                        help="homeserver setup, passed on to benchmarks that take it (e.g. workers)")
    parser.add_argument("--no-profile", action="store_true",
                        help="no timing spans or py-spy profiles (the 'What limits it' section then has less)")
    args = parser.parse_args(argv)
    if args.synapse:  # the benchmarks that start their homeserver through bench.common read it here
        os.environ["RECONNECT_BENCH_SYNAPSE"] = args.synapse
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    raw: dict[str, Any] = {"quick": args.quick, "synapse": args.synapse or "single process"}
    found: list[limits.Limit] = []
    spans = [] if args.no_profile else ["--spans"]

    if "latency" in only:
        runs = [r for r in (run("latency", "bench.latency", ["--n", "50" if args.quick else "200", *spans],
                                args.synapse)
                            for _ in range(LATENCY_RUNS)) if r is not None]
        raw["latency"] = runs
        new = latency_rows(runs) if runs else [Row("reply latency p50 vs the echo bot", "failed", "≤ 1.1×", False)]
        rows += new
        found += explain("latency", runs, new, {})
    if "flood" in only:
        fl = run("flood", "bench.flood", ["--quiet-seconds", "20", "--min-flood-seconds", "10"] if args.quick else [],
                 args.synapse)
        raw["flood"] = fl
        new = flood_rows(fl) if fl else [Row("one participant flooding 300 commands", "failed", "≤ 2× quiet", False)]
        rows += new
        found += explain("flood", fl, new, {})
    if "dispatch" in only:
        sizes = [50, 500] if args.quick else [100, 2500]
        pop = run("dispatch", "bench.dispatch", ["--populations", ",".join(map(str, sizes)),
                                                 "--n", "270" if args.quick else "1080"], args.synapse)
        raw["dispatch_population"] = pop
        new = dispatch_rows(pop, sizes) if pop else [Row("commands/s at 2,500 vs 100", "failed", "≥ 0.9×", False)]
        rows += new
        found += explain("dispatch", pop, new, {"sizes": sizes})
    for name, to_rows in (("startup", startup_rows), ("fanout", fanout_rows)):
        if name in only:
            ext = EXTERNAL[name]
            argv = list(ext["quick_argv"] if args.quick else ext["argv"])
            extra: dict[str, Any] = {}
            if not args.no_profile:  # py-spy samples the bot from outside while it is measured
                extra["profile"] = RESULTS / f"{ext['result']}.pyspy.txt"
                extra["profile"].parent.mkdir(exist_ok=True)
                extra["profile"].unlink(missing_ok=True)
                argv += ["--profile", str(extra["profile"])]
                extra["how"] = (f"py-spy --idle at {PROFILE_HZ[name]} Hz during the measured run"
                                + (", the bot's first 10 s (past the first reply if it came sooner)" if name == "startup" else "")
                                + f"; folded stacks in {extra['profile'].relative_to(RESULTS.parent.parent)}")
            data = run(name, ext["module"], argv, args.synapse)
            raw[name] = data
            new = to_rows(data)
            rows += new
            found += explain(name, data, new, extra)

    print_table("Issue 13 targets" + (" (--quick sizes: not the issue's)" if args.quick else ""),
                ("measure", "figure", "target", "met?"), [r.cells() for r in rows])
    if found:
        print(limits.format_limits(found), flush=True)
    path = write_result("summary", {"rows": [dict(zip(("measure", "figure", "target", "met"), r.cells())) for r in rows],
                                    "limits": [lim.as_dict() for lim in found], "raw": raw})
    print(f"written {path}")
    return {"rows": rows, "limits": found, "raw": raw}


if __name__ == "__main__":
    main()
