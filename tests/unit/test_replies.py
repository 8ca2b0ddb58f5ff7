"""Reply fallbacks (bot/replies.py): the quote of the answered message goes, the writer's words stay."""

from __future__ import annotations

from bot.replies import strip_body_fallback, strip_formatted_fallback, without_reply_fallback

REPLY = {"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}


def test_the_quoted_lines_and_the_blank_line_after_them_go() -> None:
    assert strip_body_fallback("> <@kari:localhost> I want to die\n> so much\n\nhugs to you") == "hugs to you"
    assert strip_body_fallback("> <@kari:localhost> hi\nno blank line") == "no blank line"
    assert strip_body_fallback("no quote\n> later quote") == "no quote\n> later quote"
    assert strip_body_fallback("> only a quote") == "> only a quote"


def test_the_mx_reply_block_goes_from_the_html() -> None:
    assert strip_formatted_fallback("<mx-reply><blockquote>x</blockquote></mx-reply><p>mine</p>") == "<p>mine</p>"
    assert strip_formatted_fallback("<p>mine</p><mx-reply>x</mx-reply>") == "<p>mine</p><mx-reply>x</mx-reply>"
    assert strip_formatted_fallback("<mx-reply>never closed") == "<mx-reply>never closed"


def test_only_replies_are_touched_and_the_content_is_copied() -> None:
    plain = {"msgtype": "m.text", "body": "> quoting a poem\n\nmine"}
    assert without_reply_fallback(plain) is plain
    reply = {**REPLY, "msgtype": "m.text", "body": "> <@k:l> q\n\n!report rude"}
    stripped = without_reply_fallback(reply)
    assert stripped["body"] == "!report rude" and reply["body"].startswith("> ")
    assert "formatted_body" not in stripped


def test_a_long_hostile_fallback_is_stripped_in_linear_time() -> None:
    import time

    body = "> " + "a" * 60_000 + "\n" + "> b\n" * 20_000 + "\nmine"
    html = "<mx-reply>" + "<mx-reply>" * 20_000 + "</mx-reply>mine"
    start = time.perf_counter()
    stripped = without_reply_fallback({**REPLY, "body": body, "formatted_body": html})
    assert time.perf_counter() - start < 0.5
    assert stripped["body"] == "mine" and stripped["formatted_body"] == "mine"
