"""The core (models, providers, jobs, storage) must work without discord.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = (
    "bot.models", "bot.providers", "bot.jobs", "bot.storage", "bot.web", "bot.metrics", "bot.net",
)  # fmt: skip

# Runs in a fresh interpreter so nothing the test session imported (discord, via other tests)
# hides an import made by the core.
IMPORT_ALL = """
import importlib, json, pkgutil, sys

imported, culprits = [], []

def load(name):
    had_discord = "discord" in sys.modules
    module = importlib.import_module(name)
    imported.append(name)
    if not had_discord and "discord" in sys.modules:
        culprits.append(name)
    return module

for package in sys.argv[1:]:
    try:
        module = load(package)
    except ModuleNotFoundError as exc:
        if exc.name == package:  # that part of the core does not exist yet
            continue
        raise
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), package + "."):
        load(info.name)
loaded = sorted(m for m in sys.modules if m == "discord" or m.startswith("discord."))
print(json.dumps({"imported": imported, "culprits": culprits, "discord": loaded}))
"""


def import_in_fresh_interpreter(*packages: str) -> dict[str, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(  # noqa: S603 - fixed argv: this interpreter and our own script
        [sys.executable, "-c", IMPORT_ALL, *packages],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, list[str]] = json.loads(result.stdout.splitlines()[-1])
    return found


def test_core_modules_do_not_import_discord() -> None:
    found = import_in_fresh_interpreter(*CORE_PACKAGES)
    assert "bot.models" in found["imported"]
    assert found["discord"] == [], f"discord imported by {found['culprits']}"


def test_the_guard_notices_a_discord_import() -> None:
    # bot.app is the Discord edge; if this saw no discord, the check above would prove nothing.
    found = import_in_fresh_interpreter("bot.app")
    assert "discord" in found["discord"]
    assert found["culprits"] == ["bot.app"]
