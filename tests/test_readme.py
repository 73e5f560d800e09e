"""README's configuration table and command list stay true to the code."""

from pathlib import Path

import typer.main

from core.settings import Settings
from service.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        name for name in Settings.model_fields if f"`COMPLAINTS_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_command_is_in_the_command_table() -> None:
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [f"complaints {name} {s}" for s in sub] if sub else [f"complaints {name}"]
    missing = [n for n in names if f"`{n}" not in README]
    assert missing == []


def test_the_two_fresh_machine_commands_come_first() -> None:
    head = README[: README.index("## What you see")]
    assert "scripts/serve" in head
    assert "scripts/test" in head
