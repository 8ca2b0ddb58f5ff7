"""Privacy guard: find identifying details in a message (pure; no Matrix, no database).

Kinds: ``email``, ``phone``, ``national_id`` (Norwegian fødselsnummer / D-number with valid
mod-11 check digits), ``address`` (street addresses, Norwegian and English) and ``social``
(social-media profile links and handles). Ordinary times, dates, prices, years, room and café
numbers must not trip it; the unit tests hold sentences of both kinds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

KINDS: tuple[str, ...] = ("email", "phone", "national_id", "address", "social")
# No Matrix event is larger than 65,536 bytes, so no message body is longer than this; text past it
# is not looked at. Every pattern below runs in time linear in the text (no nested or overlapping
# repeats that could backtrack across a whole line), which tests/unit/test_scanners_linear.py checks.
MAX_SCANNED_CHARS = 65_536


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


# --- e-mail ---------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")

# --- national identity number -----------------------------------------------------------------
_NATIONAL_ID = re.compile(r"(?<![\d+])(\d{6})[ ]?(\d{5})(?![\d])")
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int | None:
    k = 11 - sum(d * w for d, w in zip(digits, weights)) % 11
    if k == 11:
        return 0
    return None if k == 10 else k


def valid_national_id(number: str) -> bool:
    """Whether an 11-digit string has valid fødselsnummer check digits."""
    if not re.fullmatch(r"\d{11}", number):
        return False
    d = [int(c) for c in number]
    k1 = _check_digit(d[:9], _W1)
    if k1 is None or k1 != d[9]:
        return False
    k2 = _check_digit(d[:10], _W2)
    return k2 is not None and k2 == d[10]


# --- phone numbers ------------------------------------------------------------------------------
# International: +CC or 00CC, then groups of digits (optionally one area code in brackets).
_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,4}+){2,6}(?![\d])"
)
# Norwegian 8-digit numbers as people write them: 91234567, 912 34 567, 22 40 00 40, 9123 4567
# (not a part of a longer run of digit groups such as a meeting id).
_NORWEGIAN = re.compile(
    r"(?<![\d.,:/\-])(?<!\d )(?:"
    r"[2-9]\d{7}"
    r"|[2-9]\d{2}[ \-]\d{2}[ \-]\d{3}"
    r"|[2-9]\d[ \-]\d{2}[ \-]\d{2}[ \-]\d{2}"
    r"|[2-9]\d{3}[ \-]\d{4}"
    r")(?![\d]|[.,:/\- ]\d)"
)
# A currency just before or after a number makes it a price. Both are read from the number's own
# position (never by slicing or searching the text before it, which made the scan quadratic).
_PRICE_BEFORE = re.compile(r"(?:kr\.?|nok|usd|eur|\$|€|£)$", re.IGNORECASE)
_PRICE_AFTER = re.compile(r"\s*(?:kr\b|kroner|nok\b|,-|€|\$)", re.IGNORECASE)


def _is_price(text: str, start: int, end: int) -> bool:
    before = start
    while before > 0 and text[before - 1].isspace():
        before -= 1  # the spaces before one number never reach back past the number before it
    return bool(_PRICE_BEFORE.search(text, max(0, before - 4), before) or _PRICE_AFTER.match(text, end))


class _Spans:
    """Which positions fall inside spans already found (binary search, not a scan per number)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._reach: list[int] = []  # the furthest end of any span starting at or before this one
        for _, end in ordered:
            self._reach.append(max(end, self._reach[-1]) if self._reach else end)

    def covers(self, at: int) -> bool:
        i = bisect_right(self._starts, at) - 1
        return i >= 0 and self._reach[i] > at


def _looks_like_date(digits: str) -> bool:
    """A compact YYYYMMDD or DDMMYYYY date written without separators."""
    for y, m, d in ((digits[:4], digits[4:6], digits[6:]), (digits[4:], digits[2:4], digits[:2])):
        try:
            if 1900 <= int(y) <= 2099:
                date(int(y), int(m), int(d))
                return True
        except ValueError:
            continue
    return False


def _looks_like_span(match: str) -> bool:
    """Two four-digit groups that read as a range of years ("2019-2026", "2024 2025") or, with a
    hyphen, of clock times ("2000-2200")."""
    m = re.fullmatch(r"(\d{4})([ \-])(\d{4})", match)
    if m is None:
        return False
    first, sep, second = m.groups()
    if all(1900 <= int(g) <= 2099 for g in (first, second)):
        return True
    return sep == "-" and all(int(g[:2]) < 24 and int(g[2:]) < 60 for g in (first, second))


def _phones(text: str, taken: list[tuple[int, int]]) -> list[Finding]:
    found: list[Finding] = []
    for m in _INTERNATIONAL.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 8 <= len(digits) <= 17:
            found.append(Finding("phone", m.start(), m.end()))
    # Norwegian matches never overlap each other, so only earlier kinds and international numbers
    # can hide one.
    known = _Spans(taken + [(f.start, f.end) for f in found])
    for m in _NORWEGIAN.finditer(text):
        if known.covers(m.start()):
            continue
        digits = re.sub(r"\D", "", m.group())
        if _looks_like_date(digits) or _looks_like_span(m.group()):
            continue
        if _is_price(text, m.start(), m.end()):
            continue
        found.append(Finding("phone", m.start(), m.end()))
    return found


# --- street addresses ---------------------------------------------------------------------------
_NO_SUFFIX = r"(?:gata|gaten|gate|veien|vegen|vei|veg|allé|alle|stien|bakken|plassen)"
_HOUSE_NO = r"\d{1,4}(?:\s?[A-Za-z])?(?![\w:.,]\d|\d)"
_STREET_CHARS = r"A-Za-zÆØÅæøåÉé\-"
# One word ending in a street suffix ("Storgata 12", "kirkeveien 3B"), read from the start of the
# word only: a start inside it ("a-a-a-…") would re-read the rest of the word at every dash ...
_NO_COMPOUND = re.compile(
    rf"(?<![{_STREET_CHARS}])([{_STREET_CHARS}]{{2,}}{_NO_SUFFIX})\s+{_HOUSE_NO}", re.IGNORECASE
)
# ... or a name followed by a separate street word ("Karl Johans gate 5", "Thorvald Meyers gate 12").
_NO_SEPARATE = re.compile(rf"\b[A-ZÆØÅ][a-zæøåé]+s\s+(?:gate|vei|veg|allé|plass)\s+{_HOUSE_NO}")
_EN_STREET = re.compile(
    r"(?<![\w:.])\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane)(?!\w)"
)
# English words that end like Norwegian street names but are not ("investigate 5 cases").
_NOT_STREETS = frozenset({
    "investigate", "delegate", "navigate", "aggregate", "propagate", "interrogate", "mitigate",
    "instigate", "irrigate", "obligate", "segregate", "congregate", "litigate", "castigate",
    "promulgate", "abrogate", "surrogate", "tailgate", "floodgate", "elongate", "variegate",
    "subjugate", "fumigate", "corrugate", "arrogate", "relegate", "allegate", "legate",
})


def _addresses(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _NO_COMPOUND.finditer(text):
        if m.group(1).lower() in _NOT_STREETS:
            continue
        found.append(Finding("address", m.start(), m.end()))
    for rx in (_NO_SEPARATE, _EN_STREET):
        found += [Finding("address", m.start(), m.end()) for m in rx.finditer(text)]
    return found


# --- social media -----------------------------------------------------------------------------
_SOCIAL_DOMAINS = (
    r"facebook\.com|fb\.com|fb\.me|instagram\.com|instagr\.am|twitter\.com|x\.com|tiktok\.com"
    r"|linkedin\.com|snapchat\.com|threads\.net|youtube\.com|pinterest\.com|tumblr\.com"
    r"|reddit\.com|bsky\.app|t\.me|vk\.com|mastodon\.social"
)
_SOCIAL_LINK = re.compile(
    rf"(?<![\w.])(?:https?://)?(?:www\.|m\.|[a-z]{{2}}\.)?(?:{_SOCIAL_DOMAINS})/(?!\s)[^\s]+",
    re.IGNORECASE,
)
_SOCIAL_HANDLE = re.compile(
    r"\b(?:insta(?:gram)?|snap(?:chat)?|tiktok|twitter|facebook|fb|threads|bluesky)\b\s*(?:[:\-]\s*)?@[\w.]{2,30}",
    re.IGNORECASE,
)


def detect(text: str) -> list[Finding]:
    """Every identifying detail found in ``text`` (its first :data:`MAX_SCANNED_CHARS`
    characters), in order of position."""
    text = text[:MAX_SCANNED_CHARS]
    findings: list[Finding] = []
    findings += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    findings += [Finding("social", m.start(), m.end()) for m in _SOCIAL_LINK.finditer(text)]
    findings += [Finding("social", m.start(), m.end()) for m in _SOCIAL_HANDLE.finditer(text)]
    ids = [m for m in _NATIONAL_ID.finditer(text) if valid_national_id(m.group(1) + m.group(2))]
    findings += [Finding("national_id", m.start(), m.end()) for m in ids]
    taken = [(f.start, f.end) for f in findings]
    findings += _phones(text, taken)
    findings += _addresses(text)
    return sorted(findings, key=lambda f: (f.start, f.kind))


def detect_kinds(text: str, ignore: tuple[str, ...] = ()) -> list[str]:
    """The kinds found, each once, in the order of :data:`KINDS`.

    ``ignore`` lists phone numbers that are never a privacy problem (the help-lines), compared
    by their digits.
    """
    ignored = {re.sub(r"\D", "", n) for n in ignore}
    kinds = set()
    for f in detect(text):
        if f.kind == "phone" and re.sub(r"\D", "", text[f.start:f.end])[-8:] in ignored:
            continue
        kinds.add(f.kind)
    return [k for k in KINDS if k in kinds]
