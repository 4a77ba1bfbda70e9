"""What kgen prints and asks on the terminal, for the commands of `kgen.cli`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, NoReturn

import typer

from kgen.errors import KgenError, SmokeTrainError


def next_steps(plan: Any, path: Path) -> None:
    from kgen.smoke import backend_extra

    package = plan.answers["package_name"]
    commands = [
        ("train", "# train on built-in data"),
        ("tune", "# search hyperparameters (KerasTuner)"),
    ]
    steps = [
        (f'pip install -e ".[{backend_extra()},dev]"', "# other backends: README.md"),
        *(
            (f"python -m {package}.{module}", comment)
            for module, comment in commands
            # An older release of the template may lack one (tune came in 0.9).
            if (path / package / f"{module}.py").is_file()
        ),
        ("pytest", "# run the project's tests"),
    ]
    if path != Path.cwd().resolve():
        steps.insert(0, (f"cd {shlex.quote(str(plan.dest))}", ""))
    width = max(len(command) for command, _ in steps)
    typer.echo("\nNext:")
    for command, comment in steps:
        typer.echo(f"  {command.ljust(width)}  {comment}".rstrip())


def ask(question: Any, default: str, problem: str | None) -> Any:
    """Ask one question on a line of its own (works from a pipe too)."""
    if problem:
        typer.secho(f"  {problem}", fg="red", err=True)
    text = question.help or question.name
    if question.choices:
        text += f" ({' / '.join(str(value) for _, value in question.choices)})"
    if question.type == "bool":
        text += " (y/n)"
    elif question.multiselect:
        text += " (comma-separated)"
    return typer.prompt(text, default=default, show_default=bool(default))


def smoke_a_big_model(parameters: int, limit: int, interactive: bool) -> bool:
    """Whether to smoke-train a model of more than `limit` parameters."""
    size = (
        f"the model has {parameters:,} parameters, over the smoke run's limit of "
        f"{limit:,} (training it takes about {parameters * 16 / 1e9:.1f} GB of memory)"
    )
    if interactive:
        reply = typer.prompt(f"{size[0].upper()}{size[1:]}; smoke-train it? (y/n)", "n")
        return str(reply).strip().lower() in {"y", "yes"}
    warn(f"smoke run skipped: {size}; pass --smoke-any-size to smoke-train it anyway")
    return False


def smoke_step(console: Any, path: Path, module: str | None, warm: Any = None) -> None:
    from kgen.smoke import smoke_train

    if module is None:
        console.print("  no smoke step: the template declares no _kgen_smoke module")
        return
    with console.status("Smoke-training a few steps (Keras takes a few seconds)..."):
        try:
            report = smoke_train(path, module, warm)
        except KeyboardInterrupt:
            warn(
                f"interrupted: smoke-training stopped; the project is kept in {path}; "
                f"train it with `cd {shlex.quote(str(path))} && python -m {module}`"
            )
            raise typer.Exit(130) from None
        except SmokeTrainError as error:
            message = f"error: {error}; the project is kept in {path}"
            if error.log:
                message += f", see the log: {error.log}"
            typer.secho(message, fg="red", err=True)
            raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] Smoke-trained: {report.summary}")
    console.print(f"  outputs in {report.output_dir}")


def console() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def done(message: str) -> None:
    """A step that succeeded, as rich's `[green]✓[/green]` lines look."""
    typer.echo(f"{typer.style('✓', fg='green')} {message}", err=True)


def warn(message: str) -> None:
    typer.secho(message, fg="yellow", err=True)


def fail(error: KgenError) -> NoReturn:
    """Print `error` on one line and exit with status 2 (bad input)."""
    typer.secho(f"error: {error}", fg="red", err=True)
    raise typer.Exit(2) from None


def report_update(terminal: Any, project: Path, report: Any) -> None:
    """What `kgen update` changed; exits with 1 when conflicts need resolving."""
    old, new = report.old_version, report.new_version
    versions = f"template {old} → {new}" if old != new else f"template {new}"
    if not report.changed:
        terminal.print(f"[green]✓[/green] Up to date ({versions}); nothing changed")
    else:
        count = len(report.changed)
        terminal.print(
            f"[green]✓[/green] Updated {project} ({versions}): {count} "
            f"path{'s' if count > 1 else ''} changed; review with `git diff`"
        )
        for line in report.changed:
            typer.echo(f"  {line}")
    if report.unreleased:
        warn(report.unreleased)
    if report.conflicts:
        warn(
            f"conflicts in {', '.join(report.conflicts)}: your edits and the "
            "template's changes overlap; resolve them, then commit"
        )
        raise typer.Exit(1)
