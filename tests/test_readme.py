"""The README's Quickstart commands are the ones that actually run."""

from __future__ import annotations

import os
import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = ROOT / ".ci" / "run"


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def bash_blocks(text: str) -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_quickstart_has_exactly_the_start_and_test_commands() -> None:
    blocks = bash_blocks(section("Quickstart"))
    assert [len(block) for block in blocks] == [1, 1]
    (start,), (tests,) = blocks
    assert start.endswith("python -m bot")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    fenced = [line for block in bash_blocks(README) for line in block if "pytest" in line]
    assert len(fenced) == 1
    assert fenced[0] in CI_RUN.read_text(encoding="utf-8")
    assert os.access(CI_RUN, os.X_OK)


def test_every_setting_is_documented() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    table = section("Settings")
    for field in Settings.model_fields:
        assert f"`{field.upper()}`" in table
        assert re.search(rf"^#? ?{field.upper()}=", example, re.M), field


def test_the_opening_says_who_pays_for_a_generation() -> None:
    """A member's own key, or the server's sponsor key where an admin linked one; a member's
    own key always wins."""
    opening = " ".join(README.split("\n\n")[1].split())  # one line: phrases wrap anywhere
    assert "never from the server owner's" not in opening
    for phrase in ("their own", "sponsor key", "own key always wins", "*For server admins*"):
        assert phrase in opening, opening
