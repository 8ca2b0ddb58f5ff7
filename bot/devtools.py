"""Developer helper: autogenerate one feature's next Alembic revision.

    python -m bot.devtools revision toolbox "goals and steps"

Only the tables whose models live in that package are compared, so features being written
side by side never put each other's tables into their revisions.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.selectable import NamedFromClause

from bot.db import Base, make_engine
from bot.features import load_features
from bot.migrate import alembic_config, upgrade


def feature_tables(package: str) -> set[str]:
    """The tables of ``package``'s models (imported with the feature by ``load_features``)."""
    tables: set[str] = set()
    for mapper in Base.registry.mappers:
        # A named FROM clause (in practice the model's Table) is one with a name.
        if mapper.class_.__module__.split(".")[0] == package and isinstance(mapper.local_table, NamedFromClause):
            tables.add(mapper.local_table.name)
    return tables


def make_revision(package: str, message: str) -> None:
    features = load_features()
    feature = next(f for f in features if f.name == package)
    assert feature.migrations is not None, f"{package} declares no migrations folder"
    Path(feature.migrations).mkdir(parents=True, exist_ok=True)
    tables = feature_tables(package)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gen.db")
        upgrade(engine, features)
        cfg = alembic_config(features)
        script = ScriptDirectory.from_config(cfg)
        has_branch = any(package in (r.branch_labels or ()) for r in script.walk_revisions())
        existing = sorted(Path(feature.migrations).glob(f"{package}_*.py"))
        rev_id = f"{package}_{len(existing) + 1:04d}"

        def include_object(
            obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
        ) -> bool:
            if type_ == "table":
                return name in tables
            table = getattr(obj, "table", None)
            return table is None or table.name in tables

        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            cfg.attributes["include_object"] = include_object
            command.revision(
                cfg,
                message=message,
                autogenerate=True,
                head=f"{package}@head" if has_branch else "base",
                branch_label=None if has_branch else package,
                depends_on=None if has_branch else "core_0001",
                version_path=str(feature.migrations),
                rev_id=rev_id,
            )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.devtools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="autogenerate a feature's next revision")
    rev.add_argument("package")
    rev.add_argument("message")
    args = parser.parse_args()
    if args.cmd == "revision":
        make_revision(args.package, args.message)


if __name__ == "__main__":
    main()
