"""The café poll as matrix-js-sdk (Element) reads it: question, answers, a response in the form Element
sends, and the end event pointing at the poll."""

from __future__ import annotations

from schedules import polls
from tests.support.jssdk import run_script


def test_matrix_js_sdk_reads_the_poll_its_answers_and_its_end() -> None:
    start = polls.start_content("Are you coming to the café?", [("yes", "Yes"), ("maybe", "Maybe"), ("no", "No")])
    response = {"m.relates_to": {"rel_type": "m.reference", "event_id": "$poll"},
                "org.matrix.msc3381.poll.response": {"answers": ["maybe"]}}
    seen = run_script("poll_check.mjs", {
        "start_type": polls.START_TYPE, "start": start,
        "response_type": "org.matrix.msc3381.poll.response", "response": response,
        "end_type": polls.END_TYPE, "end": polls.end_content("$poll", "The café has started."),
    })
    assert seen["question"] == "Are you coming to the café?"
    assert seen["answers"] == [["yes", "Yes"], ["maybe", "Maybe"], ["no", "No"]]
    assert seen["max"] == 1 and "disclosed" in seen["kind"]["unstable"]
    assert seen["response"] == ["maybe"] and seen["spoiled"] is False
    assert seen["end_ref"] == "$poll"
    # And the bot reads that same response the way it reads its own.
    assert polls.response_of("org.matrix.msc3381.poll.response", response) == ("$poll", "maybe")
