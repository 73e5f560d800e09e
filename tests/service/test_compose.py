"""compose.yaml names only commands the `complaints` CLI really has (docker does not run here)."""

from pathlib import Path

import click
import pytest
import typer.main
import yaml

from service.cli import app

COMPOSE = yaml.safe_load((Path(__file__).parents[2] / "compose.yaml").read_text(encoding="utf-8"))
PLATFORM_SERVICES = {
    name: spec["command"]
    for name, spec in COMPOSE["services"].items()
    if spec.get("command", [""])[0] == "complaints"
}


def test_compose_runs_the_production_shape() -> None:
    services = COMPOSE["services"]
    assert {"api", "worker", "relay", "redis", "postgres"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert {"api", "worker", "relay", "scheduler"} <= set(PLATFORM_SERVICES)


@pytest.mark.parametrize(("service", "command"), PLATFORM_SERVICES.items())
def test_each_service_command_exists_and_parses(service: str, command: list[str]) -> None:
    group = typer.main.get_command(app)
    parent = click.Context(group, info_name="complaints")
    args = list(command[1:])
    current: click.Command = group
    name: str | None = None
    while isinstance(current, click.Group):
        name, sub, args = current.resolve_command(parent, args)
        assert sub is not None, f"{service}: no command {name}"
        if isinstance(sub, click.Group):
            parent = click.Context(sub, info_name=name, parent=parent)
        current = sub
    # Parses every option and argument exactly as the real run would, without running it.
    current.make_context(name or service, list(args), parent=parent)


def test_an_unknown_command_would_be_caught() -> None:
    group = typer.main.get_command(app)
    context = click.Context(group, info_name="complaints")
    with pytest.raises(click.UsageError):
        group.resolve_command(context, ["no-such-command"])
