"""What kgen prints and asks on the terminal, for the commands of `kgen.cli`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, NoReturn

import typer

from kgen.errors import KgenError, SmokeTrainError


def next_steps(plan: Any, path: Path) -> None:
    from kgen.smoke import backend_extra

    steps = [
        (f'pip install -e ".[{backend_extra()},dev]"', "# other backends: README.md"),
        *commands(path, plan.answers["package_name"]),
        ("pytest", "# run the project's tests"),
    ]
    if path != Path.cwd().resolve():
        steps.insert(0, (f"cd {shlex.quote(str(plan.dest))}", ""))
    width = max(len(command) for command, _ in steps)
    typer.echo("\nNext:")
    for command, comment in steps:
        typer.echo(f"  {command.ljust(width)}  {comment}".rstrip())


def commands(path: Path, package: str) -> list[tuple[str, str]]:
    """The project's train and tune commands, with a comment each, as they are
    spelled in the project at `path`: `python -m PKG train` where the package has a
    `__main__.py` (the current layout), `python -m PKG.train` before it; each only where
    the project has it (tune came in template 0.9)."""
    root = path / package
    new = (root / "__main__.py").is_file()
    modules = {
        "train": root / "train.py",
        "tune": root / "tools" / "tune.py" if new else root / "tune.py",
    }
    comments = {
        "train": "# train on built-in data",
        "tune": "# search hyperparameters (KerasTuner)",
    }
    return [
        (
            f"python -m {package} {name}" if new else f"python -m {package}.{name}",
            comments[name],
        )
        for name, module in modules.items()
        if module.is_file()
    ]


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


def smoke_step(console: Any, path: Path, command: str | None, warm: Any = None) -> None:
    """Smoke-train the project at `path` with the template's `_kgen_smoke` command
    `command` ("PKG train", or "PKG.train" from older templates)."""
    from kgen.smoke import by_hand, smoke_train

    if command is None:
        console.print("  no smoke step: the template declares no _kgen_smoke command")
        return
    with console.status("Smoke-training a few steps (Keras takes a few seconds)..."):
        try:
            report = smoke_train(path, command, warm)
        except KeyboardInterrupt:
            warn(
                f"interrupted: smoke-training stopped; the project is kept in {path}; "
                f"train it with `cd {shlex.quote(str(path))} && {by_hand(command)}`"
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
    for note in report.moved:
        warn(note)
    if report.conflicts:
        warn(
            f"conflicts in {', '.join(report.conflicts)}: your edits and the "
            "template's changes overlap; resolve them, then commit"
        )
        raise typer.Exit(1)
