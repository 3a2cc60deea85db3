"""/settings is split by concern: each subcommand is written in the module of its concern, and
no module of the settings cog grows past a size one can read through."""

from __future__ import annotations

from pathlib import Path

from cogs.settings import ServerSettings

SETTINGS = Path(__file__).resolve().parents[3] / "cogs" / "settings"
#: Lines one module of the settings cog may have.
MAX_LINES = 400
#: Where each concern's commands live.
CONCERNS = {
    "cogs.settings._overview": {"show", "usage"},
    "cogs.settings._rule_commands": {
        "channels add", "channels remove", "channels clear",
        "roles add", "roles remove", "roles clear",
        "models add", "models remove", "models clear",
        "limits", "credits", "privacy", "audit",
    },
    "cogs.settings._sponsor": {"sponsor link", "sponsor unlink"},
}  # fmt: skip


def test_each_settings_command_lives_with_its_concern() -> None:
    found: dict[str, set[str]] = {}
    for command in ServerSettings.settings.walk_commands():
        if not hasattr(command, "walk_commands"):  # a command, not a subgroup
            name = command.qualified_name.removeprefix("settings ")
            found.setdefault(command.module or "", set()).add(name)
    assert found == CONCERNS


def test_no_settings_module_is_longer_than_one_reads_through() -> None:
    lengths = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in SETTINGS.glob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}
