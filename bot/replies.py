"""Rich-reply fallbacks: many clients put a quote of the message answered in front of a reply
(``> <@kari:server> what she wrote`` in ``body``, ``<mx-reply>…</mx-reply>`` in
``formatted_body``). That quote is someone else's text: no scanner, observer or command parser may
read it as the replier's own, so the dispatcher removes it once, before anything sees the body."""

from __future__ import annotations

from typing import Any

_MX_REPLY_OPEN, _MX_REPLY_CLOSE = "<mx-reply>", "</mx-reply>"


def is_reply(content: dict[str, Any]) -> bool:
    rel = content.get("m.relates_to")
    irt = rel.get("m.in_reply_to") if isinstance(rel, dict) else None
    return isinstance(irt, dict)


def strip_body_fallback(body: str) -> str:
    """``body`` without the leading ``> `` quote lines and the blank line after them (as the
    Matrix spec describes the fallback). A body that is nothing but quote stays as it is."""
    lines = body.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith(">"):
        n += 1
    if n == 0 or n == len(lines):
        return body
    if lines[n].strip() == "":
        n += 1
    return "\n".join(lines[n:])


def strip_formatted_fallback(html: str) -> str:
    """``formatted_body`` without a leading ``<mx-reply>…</mx-reply>`` (plain string search: linear)."""
    start = html.lstrip()
    if not start.startswith(_MX_REPLY_OPEN):
        return html
    end = start.find(_MX_REPLY_CLOSE)
    return html if end < 0 else start[end + len(_MX_REPLY_CLOSE):]


def without_reply_fallback(content: dict[str, Any]) -> dict[str, Any]:
    """A copy of a message's content without the reply fallback (the content itself when it is
    no reply or has none)."""
    if not is_reply(content):
        return content
    body, html = content.get("body"), content.get("formatted_body")
    new_body = strip_body_fallback(body) if isinstance(body, str) else body
    new_html = strip_formatted_fallback(html) if isinstance(html, str) else html
    if new_body == body and new_html == html:
        return content
    return {**content, "body": new_body, "formatted_body": new_html} if "formatted_body" in content \
        else {**content, "body": new_body}
