"""Run a small Node script against matrix-js-sdk (the SDK Element is built on), to check how a client
that is not nio reads the bot's events. The SDK is installed into tests/js/node_modules on first use."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS = Path(__file__).resolve().parent.parent / "js"


def ensure_sdk() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed")
    if not (JS / "node_modules" / "matrix-js-sdk" / "package.json").exists():
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=JS,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.skip(f"npm could not install matrix-js-sdk: {done.stderr.strip()[-300:]}")


def run_script(script: str, payload: dict[str, Any]) -> dict[str, Any]:
    ensure_sdk()
    done = subprocess.run(["node", str(JS / script)], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=120, cwd=JS)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result
