"""Content pages (exercises, information) kept as Markdown files per language.

A page is ``<folder>/<lang>/<id>.md``: YAML front matter (``title``, optional ``kind``,
``minutes``, ``aliases``, ``order``), an introduction, then ``## `` sections, which are the steps
of an exercise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.errors import NotFound

CONTENT = Path(__file__).parent / "content"


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    intro: str
    steps: tuple[str, ...]  # each "## Heading" section as Markdown with a bold heading
    kind: str = ""
    minutes: int | None = None
    aliases: tuple[str, ...] = ()
    order: int = 100

    @property
    def body(self) -> str:
        return "\n\n".join([self.intro, *self.steps]).strip()


def _bold_heading(section: str) -> str:
    """A chat message reads better with a bold line than with a large heading."""
    heading, _, text = section.strip().partition("\n")
    return f"**{heading.strip()}**\n\n{text.strip()}".strip()


def _parse(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front) or {}
    intro, *sections = body.strip().split("\n## ")
    return Page(
        id=path.stem,
        title=str(meta["title"]),
        intro=intro.strip(),
        steps=tuple(_bold_heading(s) for s in sections),
        kind=str(meta.get("kind", "")),
        minutes=meta.get("minutes"),
        aliases=tuple(str(a).casefold() for a in meta.get("aliases", ())),
        order=int(meta.get("order", 100)),
    )


@lru_cache(maxsize=None)
def pages(folder: str, lang: str) -> tuple[Page, ...]:
    """The pages of ``folder`` in ``lang`` (English where a language has none), in list order."""
    directory = CONTENT / folder / lang
    if not directory.is_dir():
        directory = CONTENT / folder / "en"
    return tuple(sorted((_parse(p) for p in directory.glob("*.md")), key=lambda p: (p.order, p.title)))


def find(folder: str, lang: str, name: str) -> Page:
    """A page by its number in the list, id, title, alias, or a unique start of one."""
    listed = pages(folder, lang)
    wanted = " ".join(name.split()).casefold()
    if wanted.isdigit() and 1 <= int(wanted) <= len(listed):
        return listed[int(wanted) - 1]
    for page in listed:
        if wanted in (page.id, page.title.casefold(), *page.aliases):
            return page
    starts = [p for p in listed if any(k.startswith(wanted) for k in (p.id, p.title.casefold(), *p.aliases))]
    if len(starts) == 1 and wanted:
        return starts[0]
    raise NotFound(f"toolbox.{folder}.no_such")


def by_id(folder: str, lang: str, page_id: str) -> Page | None:
    return next((p for p in pages(folder, lang) if p.id == page_id), None)
