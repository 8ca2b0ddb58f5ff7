"""`make bench`'s "What limits it": the dominant component is chosen from the measured spans,
control and profile, and the printed line on what would move it follows that choice."""

from __future__ import annotations

from pathlib import Path

from bench import limits, run_all

LOOP = "_run_once (asyncio/base_events.py:1898);EpollSelector.select (selectors.py:468)"
MAIN = "<module> (bench/fanout.py:1);run (asyncio/runners.py:118)"


def folded(lines: dict[str, int]) -> str:
    return "\n".join(f"{stack} {n}" for stack, n in lines.items()) + "\n"


def fanout_profile(key_sharing: int, sender: int, loop_wait: int, idle_threads: int = 0) -> str:
    return folded({
        f"{MAIN};AsyncClient.share_group_session (nio/client/async_client.py:2012);"
        f"Olm.share_group_session (nio/crypto/olm_machine.py:1800);Session.encrypt (olm/session.py:300)": key_sharing,
        # py-spy may name the bot's files without their folder
        f"{MAIN};Sender.send_one (sender.py:220);Sender._mark (bot/sender.py:300)": sender // 2,
        f"{MAIN};Sender.send_one (bot/sender.py:220)": sender - sender // 2,
        f"{MAIN};{LOOP}": loop_wait,
        "_bootstrap (threading.py:995);_worker (concurrent/futures/thread.py:81);"
        "Condition.wait (threading.py:320)": idle_threads // 2,
        # a pool thread blocked in C: its leaf is the worker loop itself
        "Thread._bootstrap (threading.py:995);_worker (concurrent/futures/thread.py:81)": idle_threads - idle_threads // 2,
        " ": 7,  # py-spy's empty stacks are skipped
    })


FANOUT = {"n": 100, "bot_s": 30.0, "plain_s": 20.0, "fanout_ratio": 1.5, "lost": 0, "doubled": 0,
          "devices_in_population": 150, "bot_send_concurrency": 4}


def test_parse_folded_reads_pyspy_raw_lines_and_skips_empty_stacks():
    stacks = limits.parse_folded("a (x.py:1);b (y.py:2) 5\n 3\nc (z.py:9) 1\n")
    assert stacks == [(["a (x.py:1)", "b (y.py:2)"], 5), (["c (z.py:9)"], 1)]


def test_fanout_key_sharing_over_a_quarter_is_the_limit_and_says_batch_the_key_sharing():
    stacks = limits.parse_folded(fanout_profile(key_sharing=30, sender=40, loop_wait=30, idle_threads=500))
    lim = limits.fanout_limit(FANOUT, stacks, "py-spy")
    assert lim.dominant.startswith("nio room-key sharing")
    assert "batches" in lim.move
    # the thread pool's idle workers are not the bot's time: shares are over the other 100 samples
    assert lim.shares[lim.dominant] == 0.3 and lim.shares["our sender (bot/sender.py)"] == 0.4
    assert limits.IDLE_THREAD not in lim.shares
    assert any("100 samples" in e for e in lim.evidence)


def test_fanout_mostly_waiting_on_the_homeserver_names_the_homeserver():
    lim = limits.fanout_limit(FANOUT, limits.parse_folded(fanout_profile(5, 10, 85)))
    assert lim.dominant == limits.LOOP_WAIT
    assert "homeserver" in lim.move


def test_frames_of_the_bots_own_files_are_ours_with_or_without_their_folder():
    ours = limits._ours("sender.py")
    assert ours(["x (sender.py:1)"]) and ours(["x (bot/sender.py:1)"])
    assert not ours(["x (nio/sender.py:1)"]) and not ours(["x (app.py:1)"])
    assert limits._ours()(["App.start (app.py:80)"])


def test_fanout_without_key_sharing_picks_the_largest_busy_component():
    lim = limits.fanout_limit(FANOUT, limits.parse_folded(fanout_profile(10, 60, 30)))
    assert lim.dominant == "our sender (bot/sender.py)"
    assert "sender" in lim.move


def test_fanout_without_a_profile_says_so():
    lim = limits.fanout_limit(FANOUT, None)
    assert lim.dominant == "unknown" and "no profile was taken" in lim.evidence


def run_with_spans(bot_p50: float, echo_p50: float, bot_proc: float, echo_proc: float,
                   bot_stages: dict[str, float], bot_put: float = 5.0, echo_put: float = 5.0) -> dict:
    def stage(proc: float, put: float, stages: dict[str, float]) -> dict:
        return {"replies": 50, "sync_end_to_reply_put": {"p50_ms": proc}, "room_send": {"p50_ms": put},
                "stage_median_ms": stages}

    return {"reconnect": {"p50_ms": bot_p50}, "echo": {"p50_ms": echo_p50},
            "stages": {"reconnect": stage(bot_proc, bot_put, bot_stages),
                       "echo": stage(echo_proc, echo_put, {"nio.handle_sync": 3.0, "nio.receive_response": 4.0})}}


def test_latency_gap_outside_the_process_names_the_homeserver():
    runs = [run_with_spans(120, 100, 12, 8, {"nio.handle_sync": 4.0, "dispatch.handle_event": 3.0})] * 3
    lim = limits.latency_limit(runs)
    assert lim.dominant == "the homeserver (outside the bot's process)"
    assert lim.move == limits.LATENCY_MOVES["homeserver"]
    text = " ".join(lim.evidence)
    assert "20.0 ms" in text and "12.0 ms vs the echo's 8.0 ms (+4.0 ms)" in text and "+16.0 ms" in text


def test_latency_gap_in_the_bot_names_its_largest_stage_over_the_echo():
    runs = [run_with_spans(130, 100, 35, 8, {"nio.handle_sync": 4.0, "nio.receive_response": 30.0,
                                             "dispatch.handle_event": 22.0, "outbox.load": 2.0})]
    lim = limits.latency_limit(runs)
    # nio.receive_response contains handle_sync (and more): never chosen as the stage
    assert lim.dominant == "the bot's stage dispatch.handle_event"
    assert "transaction" in lim.move


def test_latency_without_spans_says_how_to_get_them():
    lim = limits.latency_limit([{"reconnect": {"p50_ms": 1}, "echo": {"p50_ms": 1}}])
    assert lim.dominant == "unknown" and "--spans" in lim.move


FLOOD = {"quiet": {"p95_ms": 200}, "control_homeserver_flooded": {"p95_ms": 500}, "flooded": {"p95_ms": 600},
         "control_p95_ratio": 2.5, "p95_ratio": 3.0, "flooded_vs_control_p95_ratio": 1.2,
         "bot_cpu_share": {"quiet": 0.05, "control": 0.1, "flooded": 0.4}, "flood_sent_seconds": 9.0,
         "control_sent_seconds": 8.0, "crisis_reply_after_seconds": 12.0}


def test_flood_control_over_the_target_names_the_homeserver_with_both_ratios():
    lim = limits.flood_limit(FLOOD, 2.0)
    assert lim.dominant == "homeserver" and "workers" in lim.move
    assert "×2.5" in lim.evidence[0] and "×3.0" in lim.evidence[0]


def test_flood_control_under_the_target_blames_the_bot():
    busy = {**FLOOD, "control_p95_ratio": 1.3, "bot_cpu_share": {"flooded": 0.95}}
    assert limits.flood_limit(busy, 2.0).dominant == "bot CPU"
    idle = {**FLOOD, "control_p95_ratio": 1.3}
    assert limits.flood_limit(idle, 2.0).dominant == "bot queueing"


SCALE = {"first_reply_s": 9.0, "first_reply_cpu_s": 6.0, "load_average_1min": 5.0, "rooms": 2013,
         "participants": 2000, "devices": 3001, "first_reply_met": False, "rss_met": False,
         "rss_mb_at_first_reply": 250.0, "rss_mb": 320.0, "rss_peak_mb": 321.0, "rss_slope_mb_per_min": 0.5,
         "rss_slope_window_min": 30.0, "rss_samples_minutes_mb": [[0, 250.0], [1, 320.0]], "activity": "compressed"}


def test_startup_names_the_device_store_when_it_has_the_largest_share():
    stacks = limits.parse_folded(folded({
        "<module> (bot/cli.py:1);_find_and_load (<frozen importlib._bootstrap>:1176)": 20,
        "App.start (bot/app.py:80);SqliteStore.load_device_keys (nio/store/database.py:500);"
        "ModelSelect.execute (peewee.py:2000)": 50,
        f"App.start (bot/app.py:80);{LOOP}": 30,
    }))
    lim = limits.startup_limit(SCALE, stacks)
    assert lim.dominant.startswith("nio's stores") and "lazily" in lim.move
    assert "2,013 rooms, 3001 devices" in lim.evidence[1] and "67 %" in lim.evidence[0]
    assert not any("load stretches" in e for e in lim.evidence)
    starved = limits.startup_limit({**SCALE, "first_reply_cpu_s": 2.0}, stacks)
    assert "the bot ran on a CPU 22 % of the time" in starved.evidence[2]
    assert "load average 5.0;" in lim.evidence[0] or lim.evidence[0].endswith("load average 5.0")
    windowed = limits.startup_limit(SCALE, stacks, window_s=5.0)
    assert "(the profile covers the first 5 s of the 9.0 s)" in windowed.evidence[2]
    assert "covers" not in lim.evidence[2]
    assert lim.evidence[-1].startswith("top frames (self): ModelSelect.execute (peewee.py:2000) 71 %")


def test_rss_split_at_the_first_reply_chooses_start_state_or_growth():
    assert limits.rss_limit(SCALE).dominant == "state at start"
    grown = limits.rss_limit({**SCALE, "rss_mb_at_first_reply": 150.0})
    assert grown.dominant == "growth with activity" and "+170.0 MB" in grown.evidence[0]
    assert "slope 0.5 MB/min over the last 30.0 min" in grown.evidence[1]


def test_dispatch_sequential_scan_names_the_table_to_index():
    r = {"ratio": 0.7, "50": {"per_second": 100}, "500": {"per_second": 70, "slowest_statements": [
        {"mean_ms": 3.0, "count": 10, "sql": "SELECT * FROM outbox"}]},
         "plans": {"big_table_seq_scans": [{"table": "outbox"}]}}
    lim = limits.dispatch_limit("PostgreSQL", r, [50, 500])
    assert lim.dominant == "sequential scan of outbox" and "index on outbox" in lim.move


def test_format_lists_each_missed_target_with_its_evidence_and_move():
    text = limits.format_limits([limits.flood_limit(FLOOD, 2.0)])
    assert "What limits it" in text
    assert "* one participant flooding: others' reply p95: homeserver" in text
    assert "    what would move it: the homeserver" in text
    assert limits.format_limits([]) == ""


def test_run_all_explains_only_missed_rows_and_reads_the_profile_it_asked_for(tmp_path: Path):
    met = [run_all.Row("x", "1", "2", True)]
    assert run_all.explain("fanout", FANOUT, met, {}) == []
    profile = tmp_path / "fanout.pyspy.txt"
    profile.write_text(fanout_profile(30, 40, 30))
    missed = run_all.fanout_rows(FANOUT)
    [lim] = run_all.explain("fanout", FANOUT, missed, {"profile": profile, "how": "py-spy"})
    assert lim.dominant.startswith("nio room-key sharing") and lim.how == "py-spy"
    [failed] = run_all.explain("fanout", None, run_all.fanout_rows(None), {})
    assert failed.dominant == "the benchmark failed"
    both = run_all.explain("startup", SCALE, run_all.startup_rows(SCALE), {})
    assert [lim.measure for lim in both] == ["start → first reply", "RSS after the activity"]


def test_latency_a_stage_seen_in_one_reply_of_fifty_is_not_the_dominant_one():
    run = run_with_spans(130, 100, 35, 8, {"outbox.record_sent": 34.0, "dispatch.handle_event": 20.0})
    run["stages"]["reconnect"]["stage_seen_in"] = {"outbox.record_sent": 1, "dispatch.handle_event": 50}
    assert limits.latency_limit([run]).dominant == "the bot's stage dispatch.handle_event"


def test_latency_a_slower_reply_put_names_the_send():
    runs = [run_with_spans(140, 100, 10, 8, {"dispatch.handle_event": 2.0}, bot_put=40.0, echo_put=5.0)]
    lim = limits.latency_limit(runs)
    assert lim.dominant == "the reply's PUT (the homeserver accepting it)" and "PUT" in lim.move


def test_latency_says_when_two_components_are_close():
    close = limits.latency_limit([run_with_spans(130, 100, 19, 8, {"dispatch.handle_event": 11.0},
                                                 bot_put=17.0, echo_put=5.0)])
    assert any(e.startswith("close: send +12.0 ms vs processing +11.0 ms") for e in close.evidence)
    apart = limits.latency_limit([run_with_spans(140, 100, 10, 8, {}, bot_put=40.0, echo_put=5.0)])
    assert not any(e.startswith("close:") for e in apart.evidence)
