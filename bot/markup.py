"""The one renderer for everything the bot sends: Markdown in, Matrix HTML out.

Catalogue templates are Markdown written by us. Values interpolated into them are *not*: a
pseudonym, a reveal message, a circle name, a report reason, a café prompt, a toolbox item were
typed by a person and must reach the reader as the literal text they typed, never as a live link,
a heading or an ``<mx-reply>``. So:

- :func:`fill` (the single formatting point, used by the catalogue) escapes every value unless it is
  :class:`Markdown`, which only code makes (catalogue output, or a list the code composed from
  escaped pieces). Forgetting to mark a composed list shows its Markdown literally: safe, and visible.
- :func:`literal` escapes a person's text for Markdown (each ASCII punctuation mark gets a backslash,
  so no Markdown or HTML construct survives); inside a template's code span, where backslashes do
  not escape, the value only loses its backticks.
- :func:`render_markdown` renders with markdown-it-py, raw HTML disabled, and then keeps only the HTML
  subset the Matrix spec allows in ``formatted_body`` (nh3, an allow-list sanitiser).
- :func:`plain_text` is the readable plain body: the Markdown with the escaping backslashes removed.
"""

from __future__ import annotations

import functools
import re
import string
from typing import Any, Iterable, Mapping

import nh3
from markdown_it import MarkdownIt

__all__ = ["Markdown", "fill", "literal", "markdown_join", "plain_text", "render_markdown", "render_static"]


class Markdown(str):
    """Text that is already Markdown made by the bot (its own escaping done): interpolated as is."""

    __slots__ = ()


# What could start Markdown or HTML in a person's text: emphasis, code, links and images (``[``),
# strikethrough, backslashes, autolinks (``<`` before a letter), entities; and at the start of a
# line: headings, quotes, list items, setext and thematic breaks. Each gets a backslash (CommonMark
# lets any ASCII punctuation be escaped), so the reader sees the characters as typed.
_INLINE = re.compile(r"[\\`*_\[\]~]|<(?=[A-Za-z/!?])|&(?=#?\w+;)")
_LINE_START = re.compile(r"(^|\n)([ \t]*)(?:([#>+=-])|(\d+)([.)]))")
# Leading spaces would make an indented code block of a line.
_LINE_INDENT = re.compile(r"(^|\n)[ \t]+")


def literal(value: object) -> Markdown:
    """A person's text as Markdown that shows exactly that text."""
    if isinstance(value, Markdown):
        return value
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _LINE_INDENT.sub(r"\1", text)
    text = _INLINE.sub(lambda m: "\\" + m.group(0), text)
    text = _LINE_START.sub(
        lambda m: m.group(1) + m.group(2) + ("\\" + m.group(3) if m.group(3) else m.group(4) + "\\" + m.group(5)),
        text)
    return Markdown(text)


def _in_code_span(text: str) -> str:
    """A value inside a template's code span: literal there already, except a backtick would end it."""
    return text.replace("`", "'").replace("\n", " ")


class _Filler(string.Formatter):
    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def fill(self, template: str) -> str:
        out: list[str] = []
        in_code = False
        for literal_text, field, spec, conversion in self.parse(template):
            out.append(literal_text)
            # Templates use single backticks for code spans; an odd count toggles.
            if literal_text.count("`") % 2:
                in_code = not in_code
            if field is None:
                continue
            if field not in self.params:
                out.append("{" + field + "}")
                continue
            value = self.params[field]
            if conversion:
                value = self.convert_field(value, conversion)
            shown = self.format_field(value, spec or "")
            if isinstance(value, Markdown) and not spec:
                out.append(value)
            elif in_code:
                out.append(_in_code_span(shown))
            else:
                out.append(literal(shown))
        return "".join(out)


def fill(template: str, params: Mapping[str, Any]) -> Markdown:
    """``template`` (Markdown) with ``{name}`` fields filled from ``params``, each value escaped
    unless it is :class:`Markdown`; unknown fields stay as they are."""
    return Markdown(_Filler(params).fill(template))


def markdown_join(separator: str, parts: Iterable[object]) -> Markdown:
    """Join pieces into one Markdown text: :class:`Markdown` pieces as they are, others escaped."""
    return Markdown(separator.join(literal(p) for p in parts))


# --- rendering ----------------------------------------------------------------------------------

# https://spec.matrix.org/latest/client-server-api/#mroommessage-msgtypes (m.text, HTML subset)
MATRIX_TAGS = frozenset({
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub",
    "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table", "thead", "tbody", "tr",
    "th", "td", "caption", "pre", "span", "img", "details", "summary",
})
MATRIX_ATTRIBUTES: dict[str, set[str]] = {
    "font": {"data-mx-bg-color", "data-mx-color", "color"},
    "span": {"data-mx-bg-color", "data-mx-color", "data-mx-spoiler"},
    "a": {"href", "target"},
    "img": {"width", "height", "alt", "title", "src"},
    "ol": {"start"},
    "code": {"class"},
}
MATRIX_URL_SCHEMES = frozenset({"https", "http", "ftp", "mailto", "magnet", "mxc"})

_LINK_SCHEMES = ("https:", "http:", "ftp:", "mailto:", "magnet:")

_MD = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})


def _allowed_value(tag: str, attribute: str, value: str) -> str | None:
    """Per-tag rules of the spec: links to the listed schemes, images only from the homeserver's
    content repository (mxc), code classes only for syntax highlighting."""
    lowered = value.strip().lower()
    if tag == "a" and attribute == "href":
        return value if lowered.startswith(_LINK_SCHEMES) else None
    if tag == "img" and attribute == "src":
        return value if lowered.startswith("mxc://") else None
    if tag == "code" and attribute == "class":
        return value if value.startswith("language-") else None
    return value


def _sanitise(html: str) -> str:
    cleaned: str = nh3.clean(
        html,
        tags=set(MATRIX_TAGS),
        clean_content_tags={"mx-reply", "script", "style"},
        attributes=MATRIX_ATTRIBUTES,
        attribute_filter=_allowed_value,
        url_schemes=set(MATRIX_URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    return cleaned


def render_markdown(text: str) -> str:
    """Markdown to the HTML a Matrix client shows: raw HTML in the text is shown as text, and
    only the tags and attributes the spec lists remain."""
    return _sanitise(_MD.render(text)).strip()


@functools.lru_cache(maxsize=64)
def render_static(text: str) -> tuple[str, str]:
    """(:func:`plain_text`, :func:`render_markdown`) of a text made only of catalogue text and
    code (``!help``'s list, say), remembered: such a text is the same for everyone with the same
    role, room and language, and rendering it costs milliseconds. Never for a text that holds
    what a person typed (it would stay in memory)."""
    return plain_text(text), render_markdown(text)


_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def plain_text(text: str) -> str:
    """The plain ``body`` for a Markdown text: escaping backslashes removed outside code spans."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
        elif ch == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            end = text.find("`" * run, i + run)
            if end < 0:
                out.append(text[i:i + run])
                i += run
            else:
                out.append(text[i:end + run])
                i = end + run
        else:
            out.append(ch)
            i += 1
    return "".join(out)
