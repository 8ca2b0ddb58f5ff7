"""The direction of dependencies (DESIGN.md): features import ``bot`` and never each other,
neither by an import line nor by ``importlib``; ``bot`` never imports a feature. What one feature
offers another goes through the contracts in ``bot/contracts.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.features import FEATURE_MODULES

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("rooms", "toolbox", "schedules")
# The one place in bot/ that names the feature modules (as strings, to load them).
LOADER = ROOT / "bot" / "features.py"


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _package_of(dotted: str) -> str:
    return dotted.split(".")[0]


def reached_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every module a file reaches: import lines, ``import_module`` and
    ``__import__`` with a literal name, and string literals shaped like ``pkg.module``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((node.lineno, first.value))
                else:
                    found.append((node.lineno, "<computed>"))  # a name built at run time hides the reach
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and names_a_module(node.value):
            found.append((node.lineno, node.value))
    return found


def names_a_module(text: str) -> bool:
    """``rooms.api`` or ``rooms.api.unanswered_posts``: a feature package and one of its modules
    (a catalogue key such as ``toolbox.help.export`` names none)."""
    parts = text.split(".")
    if len(parts) < 2 or parts[0] not in FEATURES or not all(p.isidentifier() for p in parts[:2]):
        return False
    module = ROOT / parts[0] / parts[1]
    return module.with_suffix(".py").is_file() or (module / "__init__.py").is_file()


def reaches(path: Path, forbidden: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{line} reaches {module}" for line, module in reached_modules(tree)
            if module == "<computed>" or _package_of(module) in forbidden]


@pytest.mark.parametrize("feature", FEATURES)
def test_no_feature_reaches_another(feature: str) -> None:
    others = set(FEATURES) - {feature}
    problems = [p for path in _python_files(feature) for p in reaches(path, others)]
    assert problems == []


def test_bot_never_imports_a_feature() -> None:
    problems = [p for path in _python_files("bot") if path != LOADER for p in reaches(path, set(FEATURES))]
    assert problems == []


def test_the_loader_names_every_feature_as_a_string_only() -> None:
    tree = ast.parse(LOADER.read_text(encoding="utf-8"))
    imported = [alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert [m for m in imported if _package_of(m) in FEATURES] == []
    assert {_package_of(m) for m in FEATURE_MODULES} == {"bot", *FEATURES}


def test_the_scan_sees_every_kind_of_reach() -> None:
    """The scanner itself: each of these would be a cross-feature reach from schedules."""
    source = '''
import rooms.api
from toolbox import crisis_plan
from rooms.api import unanswered_posts
import importlib
importlib.import_module("rooms.api")
__import__("toolbox.crisis_plan")
NAME = "rooms.membership"
importlib.import_module(NAME)
'''
    found = reached_modules(ast.parse(source))
    assert {line for line, m in found if m == "rooms.api"} == {2, 4, 6}  # import, from-import, import_module
    assert (3, "toolbox") in found and (7, "toolbox.crisis_plan") in found  # from-import, __import__
    assert (8, "rooms.membership") in found and (9, "<computed>") in found  # a literal, a computed name
    # Plain words, sentences and catalogue keys are not module names.
    assert reached_modules(ast.parse('X = "rooms"; Y = "see rooms.api for more"; Z = "toolbox.help.export"')) == []
