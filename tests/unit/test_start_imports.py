"""What the bot imports before its first reply: ``reconnect run`` loads the CLI, the application,
the HTTP side and every feature module. Modules only a picture or a printed plan needs
(matplotlib with numpy, reportlab) are imported when one is made; they cost about a second of
every start (and ~50 MB) otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = ("matplotlib", "numpy", "reportlab", "PIL", "pypdf")

PROBE = """
import json, sys
import bot.cli, bot.app, bot.http
from bot.features import load_features
load_features()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_start_does_not_import_what_only_pictures_and_pdfs_need() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))
