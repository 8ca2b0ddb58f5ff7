"""What limits a missed figure, from what the same ``make bench`` run measured (``bench.run_all``).

For each benchmark whose target was missed: the measured evidence (spans, the control, a py-spy
profile grouped by component, RSS samples, query statistics), the dominant component chosen from
those numbers, and one line on what would move it, picked by that component. Pure functions of the
benchmarks' result dicts (and a py-spy ``raw`` profile's text), so they are unit-tested without a
homeserver (tests/unit/test_bench_limits.py).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence


@dataclass
class Limit:
    measure: str
    dominant: str  # the component chosen from the measurement
    evidence: list[str]  # what was measured, one line each
    move: str  # what would move it (chosen by ``dominant``)
    how: str = ""  # how the evidence was taken (same run, sampling rate, …)
    shares: dict[str, float] = field(default_factory=dict)  # component → share (0-1), when a profile was grouped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- py-spy profiles ----------------------------------------------------------------------------

Stack = tuple[list[str], int]


def parse_folded(text: str) -> list[Stack]:
    """py-spy ``-f raw`` (folded stacks): ``root;…;leaf COUNT`` a line; empty stacks are skipped."""
    stacks: list[Stack] = []
    for line in text.splitlines():
        head, _, count = line.rstrip().rpartition(" ")
        if not head.strip() or not count.isdigit():
            continue
        stacks.append(([f for f in head.split(";") if f], int(count)))
    return stacks


def _has(*needles: str) -> Callable[[list[str]], bool]:
    return lambda frames: any(n in f for f in frames for n in needles)


# py-spy names a frame ``function (file:line)``; the file is shortened, and this project's modules may
# appear without their package folder (``sender.py`` for bot/sender.py).
_FILE = re.compile(r"\(([^()]*?):\d+\)$")
BOT_FILES = frozenset(p.name for p in (Path(__file__).resolve().parent.parent / "bot").glob("*.py"))
BENCH_FILES = frozenset(p.name for p in Path(__file__).resolve().parent.glob("*.py"))


def frame_file(frame: str) -> str:
    m = _FILE.search(frame)
    return m.group(1) if m else ""


def _ours(*names: str) -> Callable[[list[str]], bool]:
    """Frames in the bot's own modules (``names``: these files only)."""
    def match(frames: list[str]) -> bool:
        for f in frames:
            path = frame_file(f)
            base = path.removeprefix("bot/")
            if (path.startswith("bot/") or ("/" not in path and path in BOT_FILES)) and (not names or base in names):
                return True
        return False
    return match


def _leaf(*needles: str) -> Callable[[list[str]], bool]:
    return lambda frames: bool(frames) and any(n in frames[-1] for n in needles)


# Idle samples (py-spy --idle): the event loop waiting for I/O is time spent waiting on the
# homeserver (or on nothing); a thread pool's worker waiting for work is not the bot's time at all.
IDLE_THREAD = "idle worker threads"
LOOP_WAIT = "event loop waiting (on the homeserver)"
_THREAD_WAIT = _leaf("Condition.wait (threading.py", "lock.acquire", "SimpleQueue.get", "Queue.get (queue.py",
                     "_worker (concurrent/futures/thread.py")
_LOOP_WAIT = _leaf("select (selectors.py", "poll (selectors.py", "EpollSelector.select")

Groups = Sequence[tuple[str, Callable[[list[str]], bool]]]

# First matching group wins: the more specific component before the general one.
FANOUT_GROUPS: Groups = (
    (IDLE_THREAD, lambda fr: _THREAD_WAIT(fr) and not _LOOP_WAIT(fr)),
    (LOOP_WAIT, _LOOP_WAIT),
    ("nio room-key sharing (Olm encryption, trust files)", _has("nio/crypto/", "olm", "vodozemac",
                                                               "share_group_session (nio/crypto")),
    ("to-device sends (room keys)", _has("share_group_session", "to_device", "ToDevice")),
    ("key query / one-time key claim", _has("keys_query", "keys_claim", "claim_one_time")),
    ("database (SQLAlchemy)", _has("sqlalchemy/", "sqlite3", "psycopg")),
    ("HTTP (aiohttp)", _has("aiohttp/")),
    ("nio other (sync handling, room send, encryption of the message)", _has("nio/")),
    ("our sender (bot/sender.py)", _ours("sender.py")),
    ("the bot's other code (bot/)", _ours()),
    ("benchmark harness (bench/)", lambda fr: any(frame_file(f).startswith("bench/") or frame_file(f) in BENCH_FILES
                                                  for f in fr)),
)

STARTUP_GROUPS: Groups = (
    (IDLE_THREAD, lambda fr: _THREAD_WAIT(fr) and not _LOOP_WAIT(fr)),
    (LOOP_WAIT, _LOOP_WAIT),
    ("imports", _has("_find_and_load", "exec_module")),
    ("nio's stores (devices, sessions; peewee)", _has("nio/store", "peewee")),
    ("Olm / crypto", _has("nio/crypto/", "olm", "vodozemac")),
    ("nio sync handling", _has("_handle_sync", "nio/responses", "nio/rooms", "receive_response")),
    ("database (SQLAlchemy, migrations)", _has("sqlalchemy/", "alembic/", "sqlite3", "psycopg")),
    ("HTTP (aiohttp)", _has("aiohttp/")),
    ("nio other", _has("nio/")),
    ("the bot's own code (bot/)", _ours()),
)


def group_profile(stacks: Iterable[Stack], groups: Groups) -> Counter[str]:
    counts: Counter[str] = Counter()
    for frames, n in stacks:
        counts[next((name for name, match in groups if match(frames)), "other")] += n
    return counts


def busy_shares(counts: Counter[str]) -> tuple[dict[str, float], float, int]:
    """Shares of each component among the samples that are not idle threads (the event loop
    waiting is kept: it is the bot waiting on the homeserver); (shares, loop-wait share, samples)."""
    total = sum(n for g, n in counts.items() if g != IDLE_THREAD)
    if not total:
        return {}, 0.0, 0
    shares = {g: round(n / total, 3) for g, n in counts.most_common() if g != IDLE_THREAD}
    return shares, shares.get(LOOP_WAIT, 0.0), total


def top_frames(stacks: Iterable[Stack], n: int = 5) -> list[tuple[str, float]]:
    """The leaf functions (self time) with the largest shares of the busy samples."""
    counts: Counter[str] = Counter()
    for frames, c in stacks:
        if frames and not _LOOP_WAIT(frames) and not _THREAD_WAIT(frames):
            counts[frames[-1]] += c
    total = sum(counts.values())
    return [(f, round(c / total, 3)) for f, c in counts.most_common(n)] if total else []


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def _shares_line(shares: dict[str, float], k: int = 5) -> str:
    return "; ".join(f"{g} {_pct(s)}" for g, s in list(shares.items())[:k])


# --- reply latency --------------------------------------------------------------------------------

# Spans that contain others (bench/spans.py): not chosen as the dominant stage.
CONTAINER_SPANS = {"nio.receive_response", "sync.hand_on", "outbox.send_wave", "http.sync", "http.other"}
LATENCY_MOVES = {
    "homeserver": "the homeserver's delivery, outside the bot's process (its /sync wake-up for an account in many "
                  "rooms and the reply's way to the client): a lighter sync for the bot (filter, lazy-loaded "
                  "members) or a sync worker; the bot's code is not where the gap is",
    "send": "the homeserver takes longer to accept the bot's reply than the echo's (the HTTP PUT alone, after nio "
            "encrypted it): the toolbox room has more members than the echo's direct chat (push rules, their "
            "syncs woken); an event persister worker, or the echo bot in a room of the same members, tells which",
    "nio.handle_sync": "nio parsing and decrypting the sync that carries the command: a sync filter that drops "
                       "what the bot never reads",
    "dispatch.handle_event": "the command's own transaction: fewer queries and one commit per command",
    "keys.after_sync": "key work between the sync and the reply: query and claim keys off the reply path",
    "keys.prepare_room": "preparing the room's encryption before the reply: share room keys ahead of time",
    "rooms.refusal": "the room check before handling: cache the room's kind and members",
    "outbox.load": "the outbox's database read before the PUT: hand the queued reply to the sender in memory",
    "outbox.record_sent": "the outbox's write after each PUT: record a wave's sends in one transaction",
    "outbox.send_one": "the sender's work before the PUT (encryption, checks): move it off the reply path",
}


def per_reply(breakdown: dict[str, Any], stage: str) -> float:
    """A stage's median ms weighted by the share of replies it was seen in: a stage that ran in one
    reply of 60 is not what slows the replies down."""
    ms = breakdown["stage_median_ms"].get(stage, 0.0)
    replies = breakdown.get("replies") or 1
    seen = breakdown.get("stage_seen_in", {}).get(stage, replies)
    return float(ms) * float(seen) / float(replies)


def latency_limit(runs: Sequence[dict[str, Any]]) -> Limit:
    """From ``bench.latency --spans`` results: the bot's round-trip excess over the echo bot, split
    into its own processing (sync end → reply PUT), the PUT, and the rest (outside the process)."""
    measure = "reply latency p50 vs the echo bot"
    with_stages = [r for r in runs if "reconnect" in r.get("stages", {}) and "echo" in r.get("stages", {})]
    if not with_stages:
        return Limit(measure, "unknown", ["no spans were recorded in these runs"],
                     "run bench.latency --spans to see where the time goes")
    gap, proc, send, bot_proc, echo_proc = [], [], [], [], []
    stage_excess: dict[str, list[float]] = {}
    for r in with_stages:
        bot, echo = r["stages"]["reconnect"], r["stages"]["echo"]
        g = r["reconnect"]["p50_ms"] - r["echo"]["p50_ms"]
        p = bot["sync_end_to_reply_put"]["p50_ms"] - echo["sync_end_to_reply_put"]["p50_ms"]
        s = bot.get("room_send", {}).get("p50_ms", 0.0) - echo.get("room_send", {}).get("p50_ms", 0.0)
        gap.append(g)
        proc.append(p)
        send.append(s)
        bot_proc.append(bot["sync_end_to_reply_put"]["p50_ms"])
        echo_proc.append(echo["sync_end_to_reply_put"]["p50_ms"])
        for name in set(bot["stage_median_ms"]) - CONTAINER_SPANS:
            stage_excess.setdefault(name, []).append(per_reply(bot, name) - per_reply(echo, name))
    m = statistics.median
    parts = {"processing": m(proc), "send": m(send), "homeserver": m(gap) - m(proc) - m(send)}
    dominant = max(parts, key=lambda k: parts[k])
    stages = sorted(((k, round(m(v), 2)) for k, v in stage_excess.items()), key=lambda kv: -kv[1])
    if dominant == "processing" and stages:
        dominant = stages[0][0]
    label = {"homeserver": "the homeserver (outside the bot's process)",
             "send": "the reply's PUT (the homeserver accepting it)"}.get(dominant, f"the bot's stage {dominant}")
    total = m(gap)
    evidence = [
        f"round-trip p50 excess over the echo bot: {total:.1f} ms (median of {len(with_stages)} runs: "
        + ", ".join(f"{x:.1f}" for x in gap) + ")",
        f"the bot's own processing, sync with the command → reply PUT: {m(bot_proc):.1f} ms vs the echo's "
        f"{m(echo_proc):.1f} ms (+{parts['processing']:.1f} ms)",
        f"the reply's PUT (HTTP only): {parts['send']:+.1f} ms vs the echo's",
        f"the rest, outside the bot's process (homeserver /sync delivery and the reply's way back): "
        f"{parts['homeserver']:+.1f} ms" + (f" ({parts['homeserver'] / total * 100:.0f} % of the excess)"
                                           if total > 0 else ""),
    ]
    ranked = sorted(parts.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] > 0 and ranked[1][1] >= 0.8 * ranked[0][1]:
        evidence.append(f"close: {ranked[0][0]} {ranked[0][1]:+.1f} ms vs {ranked[1][0]} {ranked[1][1]:+.1f} ms "
                        "(within 20 %); both are worth moving")
    if stages:
        evidence.append("the bot's stages over the echo's (ms per reply within the processing): "
                        + ", ".join(f"{k} {v:+.2f}" for k, v in stages[:4]))
    return Limit(measure, label, evidence,
                 LATENCY_MOVES.get(dominant, f"the bot's stage {dominant}: make it cheaper or move it off the reply path"),
                 "timing spans (bench/spans.py) in the same runs, in both bots")


# --- flood ------------------------------------------------------------------------------------

FLOOD_MOVES = {
    "homeserver": "the homeserver: the same flood into a room without the bot already slows the others' replies "
                  "past the target; Synapse with workers (event persister, sync worker) is what moves it",
    "bot CPU": "the bot's CPU during the flood: drop rate-limited commands before their decryption and "
               "transaction cost more than a look-up",
    "bot queueing": "the bot's ordering: another person's command waits behind the flooder's within a sync "
                    "or an outbox wave; give rooms turns earlier (per-room queues before handling)",
}


def flood_limit(r: dict[str, Any], target: float = 2.0) -> Limit:
    cpu = r.get("bot_cpu_share", {})
    control = r["control_p95_ratio"]
    evidence = [
        f"others' reply p95: quiet {r['quiet']['p95_ms']} ms; the same flood into a room without the bot "
        f"(homeserver alone) {r['control_homeserver_flooded']['p95_ms']} ms ×{control}; with the bot "
        f"{r['flooded']['p95_ms']} ms ×{r['p95_ratio']} (×{r['flooded_vs_control_p95_ratio']} of the control)",
        "bot CPU (s/s): " + ", ".join(f"{k} {v}" for k, v in cpu.items()),
        f"flood sent in {r['flood_sent_seconds']} s (control {r.get('control_sent_seconds', '?')} s); "
        f"crisis reply after {r['crisis_reply_after_seconds']} s",
    ]
    if control > target:
        dominant = "homeserver"
    elif cpu.get("flooded", 0.0) >= 0.8:
        dominant = "bot CPU"
    else:
        dominant = "bot queueing"
    return Limit("one participant flooding: others' reply p95", dominant, evidence, FLOOD_MOVES[dominant],
                 "the control and the bot's CPU (/proc) are measured in the same run")


# --- fan-out ----------------------------------------------------------------------------------

FANOUT_MOVES = {
    LOOP_WAIT: "the homeserver: the bot mostly waits for Synapse's answers; more bot.send_concurrency helps "
               "only if the homeserver has CPU to spare (Synapse workers)",
    "nio room-key sharing (Olm encryption, trust files)": "share room keys in batches: one Olm pass and one "
                                                          "trust-file write per wave, not per room",
    "to-device sends (room keys)": "fewer to-device requests: send a wave's room keys in one sendToDevice",
    "key query / one-time key claim": "query and claim keys for a whole wave in one request",
    "database (SQLAlchemy)": "fewer database round trips per message: record a wave's sends in one transaction",
    "HTTP (aiohttp)": "fewer HTTP requests per reminder (batch to-device messages)",
    "our sender (bot/sender.py)": "the sender's own per-message work: profile bot/sender.py's hot loop",
}
BUSY_WAIT_THRESHOLD = 0.5  # the loop waiting more than this: the homeserver is the limit


def fanout_limit(data: dict[str, Any], stacks: list[Stack] | None, how: str = "") -> Limit:
    evidence = [f"ReConnect {data['bot_s']} s vs a plain client {data['plain_s']} s for {data['n']} rooms "
                f"(×{data['fanout_ratio']}), {data.get('devices_in_population', '?')} devices in the population, "
                f"send concurrency {data.get('bot_send_concurrency', '?')}; lost {data['lost']}, "
                f"doubled {data['doubled']}"]
    if not stacks:
        return Limit("café reminder fan-out", "unknown", evidence + ["no profile was taken"],
                     "run bench.fanout --profile FILE", how)
    shares, wait, total = busy_shares(group_profile(stacks, FANOUT_GROUPS))
    busy = {g: s for g, s in shares.items() if g != LOOP_WAIT}
    evidence.append(f"py-spy, {total} samples: {_shares_line(shares, 6)}")
    evidence.append("top functions (self): " + "; ".join(f"{f} {_pct(s)}" for f, s in top_frames(stacks, 4)))
    if wait > BUSY_WAIT_THRESHOLD or not busy:
        dominant = LOOP_WAIT
    else:
        dominant = max(busy, key=lambda g: busy[g])
        if busy.get("nio room-key sharing (Olm encryption, trust files)", 0.0) > 0.25:
            dominant = "nio room-key sharing (Olm encryption, trust files)"
    return Limit("café reminder fan-out", dominant, evidence,
                 FANOUT_MOVES.get(dominant, f"{dominant}: the largest share of the fan-out's samples"), how, shares)


# --- start-up and RSS ---------------------------------------------------------------------------

STARTUP_MOVES = {
    LOOP_WAIT: "the homeserver's first /sync for an account in this many rooms: a lighter sync filter; the bot "
               "itself is mostly idle",
    "imports": "import less at start: defer the heavy modules (charts, PDF) to first use",
    "nio's stores (devices, sessions; peewee)": "load devices lazily (for the rooms the bot sends to) instead of "
                                                "reading the whole device store at start",
    "Olm / crypto": "fewer Olm operations at start (sessions and keys loaded on demand)",
    "nio sync handling": "a first sync that carries less (filter, lazy-loaded members)",
    "database (SQLAlchemy, migrations)": "fewer start-up queries (the migration check, state loads)",
}


def startup_limit(data: dict[str, Any], stacks: list[Stack] | None, how: str = "",
                  window_s: float | None = None) -> Limit:
    """``window_s``: how much of the start the profile covers (py-spy's duration)."""
    cpu, wall = data.get("first_reply_cpu_s"), data["first_reply_s"]
    load = data.get("load_average_1min")
    evidence = [f"first reply {wall} s after start, the bot's CPU until then {cpu} s"
                + (f" ({cpu / wall * 100:.0f} % of the wall time)" if cpu and wall else "")
                + f"; load average {round(load, 1) if isinstance(load, (int, float)) else '?'}",
                f"loaded: {data['rooms']:,} rooms, {data.get('devices', '?')} devices, "
                f"{data['participants']:,} participants"]
    if cpu and wall and cpu / wall < 0.5:
        evidence.append(f"the bot ran on a CPU {cpu / wall * 100:.0f} % of the time to its first reply: the machine's "
                        "load stretches every component below (py-spy counts waiting for a CPU as busy)")
    if not stacks:
        return Limit("start → first reply", "unknown", evidence + ["no profile was taken"],
                     "run bench.scale --profile FILE", how)
    shares, wait, total = busy_shares(group_profile(stacks, STARTUP_GROUPS))
    busy = {g: s for g, s in shares.items() if g != LOOP_WAIT}
    evidence.append(f"py-spy, {total} samples: {_shares_line(shares, 6)}"
                    + (f" (the profile covers the first {window_s:g} s of the {wall} s)" if window_s and wall > window_s
                       else ""))
    evidence.append("top frames (self): " + "; ".join(f"{f} {_pct(s)}" for f, s in top_frames(stacks, 5)))
    dominant = LOOP_WAIT if wait > BUSY_WAIT_THRESHOLD or not busy else max(busy, key=lambda g: busy[g])
    return Limit("start → first reply", dominant, evidence,
                 STARTUP_MOVES.get(dominant, f"{dominant}: the largest share of the start's samples"), how, shares)


RSS_MOVES = {
    "state at start": "memory bounds on nio's room and device caches (devices loaded lazily): the bot is already "
                      "near the limit at its first reply",
    "growth with activity": "find what grows with activity (tracemalloc snapshots before and after) and bound it",
}


def rss_limit(data: dict[str, Any], target_mb: float = 300.0) -> Limit:
    start, end = data.get("rss_mb_at_first_reply"), data["rss_mb"]
    growth = end - start if start is not None else None
    evidence = [f"RSS {start} MB at the first reply → {end} MB after the activity (peak {data.get('rss_peak_mb')})"
                + (f": {growth:+.1f} MB during {data.get('activity', 'the activity')}" if growth is not None else ""),
                f"slope {data.get('rss_slope_mb_per_min')} MB/min over the last {data.get('rss_slope_window_min')} min "
                f"of {len(data.get('rss_samples_minutes_mb', []))} samples",
                f"size: {data['rooms']:,} rooms, {data.get('devices', '?')} devices"]
    dominant = "state at start" if start is not None and (growth is None or start >= growth) else "growth with activity"
    return Limit("RSS after the activity", dominant, evidence, RSS_MOVES[dominant],
                 "RSS sampled from /proc in the same run; growth split at the first reply")


# --- command cost -------------------------------------------------------------------------------

def dispatch_limit(engine: str, r: dict[str, Any], sizes: Sequence[int]) -> Limit:
    small, large = min(sizes), max(sizes)
    evidence = [f"{engine}: {r[str(large)]['per_second']} commands/s at {large} vs {r[str(small)]['per_second']} "
                f"at {small} (×{r['ratio']})"]
    slow = r[str(large)].get("slowest_statements", [])
    evidence += [f"slowest at {large}: {s['mean_ms']} ms × {s['count']}: {s['sql'][:90]}" for s in slow[:3]]
    scans = (r.get("plans") or {}).get("big_table_seq_scans", [])
    if scans:
        tables = sorted({s["table"] for s in scans})
        evidence.append(f"sequential scans of growing tables: {', '.join(tables)}")
        return Limit("command cost as the population grows", f"sequential scan of {tables[0]}", evidence,
                     f"an index on {', '.join(tables)} for the scanning query's access path",
                     "SQL statistics and EXPLAIN from the same run")
    dominant = f"slowest statement: {slow[0]['sql'][:60]}" if slow else "unknown"
    return Limit("command cost as the population grows", dominant, evidence,
                 "make the slowest statement at the larger population independent of its size (index, narrower "
                 "query)" if slow else "run bench.dispatch with more commands", "SQL statistics from the same run")


# --- output -------------------------------------------------------------------------------------

def format_limits(limits: Sequence[Limit]) -> str:
    if not limits:
        return ""
    lines = ["", "What limits it (measured in this run, for each missed target)"]
    for lim in limits:
        lines.append(f"\n* {lim.measure}: {lim.dominant}" + (f"  [{lim.how}]" if lim.how else ""))
        lines += [f"    - {e}" for e in lim.evidence]
        lines.append(f"    what would move it: {lim.move}")
    return "\n".join(lines)
