"""Apply every feature's Alembic revisions (``upgrade heads``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from bot.db import bring_seals_up_to_date
from bot.feature import Feature

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(features: list[Feature]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions")]
    locations += [str(f.migrations) for f in features if f.migrations is not None and f.name != "core"]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(engine: Engine, features: list[Feature]) -> None:
    """Apply the migrations, then seal (bound to their rows) values written before they were."""
    cfg = alembic_config(features)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
    bring_seals_up_to_date(engine)


def revision(engine: Engine, features: list[Feature], message: str, *, branch: str | None,
             head: str, version_path: str | None = None) -> None:
    """Autogenerate a revision against a database at ``heads`` (developer helper)."""
    cfg = alembic_config(features)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True, head=head,
                         branch_label=branch, version_path=version_path)
