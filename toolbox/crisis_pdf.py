"""The crisis plan as a printable PDF (reportlab, on this machine): real text, selectable and
searchable, in a font with Norwegian letters. Built from plain values only (no rows, no session),
so it can run in a worker thread after the event's transaction.

The document holds nothing that names the person: its title is the generic "Crisis plan", the
author and subject are empty, and the file name the caller gives is neutral.

reportlab (and matplotlib, for its font) is imported when a plan is printed, not with this
module: the bot's start needs none of it."""

from __future__ import annotations

import io
import os
import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

FONT, FONT_BOLD = "ReConnectSans", "ReConnectSans-Bold"
_fonts_lock = threading.Lock()
# reportlab keeps state per document, but its font registry is global: one build at a time.
_build_lock = threading.Lock()
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class PdfSection:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CrisisPdf:
    """Everything the page shows, already in the reader's language."""

    title: str
    sections: tuple[PdfSection, ...]
    empty_section: str
    help_heading: str
    help_lines: tuple[tuple[str, str], ...]  # (label, number)
    review_line: str | None
    generated_line: str


def _register_fonts() -> None:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        # DejaVu Sans ships with matplotlib (already a dependency): it has æ, ø, å and most
        # scripts, and is embedded (subset) so the text layer reads back as typed.
        font_dir = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
        pdfmetrics.registerFont(TTFont(FONT, os.path.join(font_dir, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, os.path.join(font_dir, "DejaVuSans-Bold.ttf")))


def printable(text: str) -> str:
    """``text`` as the font can show it and a reader can copy it back: letters outside the basic
    plane (emoji) or missing from the font become the replacement character, control characters
    a space. Never raises: a person's plan always prints."""
    from reportlab.pdfbase import pdfmetrics

    _register_fonts()
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph  # type: ignore[attr-defined]
    out = []
    for ch in " ".join(text.split()):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(" " if unicodedata.category(ch) == "Cc" else "")
        elif ord(ch) > 0xFFFF or ord(ch) not in glyphs:
            out.append(REPLACEMENT)
        else:
            out.append(ch)
    return "".join(out).strip()


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    from reportlab.platypus import Paragraph

    # Paragraph reads a little XML: the person's text is escaped so "<3" stays "<3".
    return Paragraph(escape(printable(text)), style)


def render(plan: CrisisPdf, doc_title: str) -> bytes:
    """The PDF's bytes. ``doc_title`` goes into the metadata: keep it generic."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import ListFlowable, ListItem, SimpleDocTemplate, Spacer

    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=15)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12, textColor="#555555")
    heading = ParagraphStyle("heading", parent=body, fontName=FONT_BOLD, fontSize=13, leading=17,
                             spaceBefore=8, spaceAfter=3)
    title = ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=20, leading=26, spaceAfter=8)
    flow: list[object] = [_para(plan.title, title)]
    for section in plan.sections:
        flow.append(_para(section.title, heading))
        if section.lines:
            flow.append(ListFlowable([ListItem(_para(line, body), leftIndent=14) for line in section.lines],
                                     bulletType="1", bulletFontName=FONT, start="1", leftIndent=14))
        else:
            flow.append(_para(plan.empty_section, small))
    flow.append(Spacer(1, 4 * mm))
    flow.append(_para(plan.help_heading, heading))
    flow.append(ListFlowable([ListItem(_para(f"{label}: {number}", body), leftIndent=14)
                              for label, number in plan.help_lines],
                             bulletType="bullet", bulletFontName=FONT, leftIndent=14))
    flow.append(Spacer(1, 4 * mm))
    if plan.review_line:
        flow.append(_para(plan.review_line, body))
    flow.append(_para(plan.generated_line, small))
    buf = io.BytesIO()
    with _build_lock:
        doc = SimpleDocTemplate(buf, pagesize=A4, title=doc_title, author="", subject="", creator="", keywords="",
                                leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
        doc.build(flow)
    return buf.getvalue()
