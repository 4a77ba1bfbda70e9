"""The `kgen` command line: parsing and printing; the work is in kgen's modules.

`kgen new`'s flags are the template's questions, read from its copier.yml when the
command runs (see `kgen.flags`), so nothing here restates them. Only typer is
imported at start-up: copier, black, YAML and TensorFlow load inside the commands
that need them, so `kgen --help` stays fast.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from kgen import __version__
from kgen.console import (
    ask,
    console,
    done,
    fail,
    next_steps,
    report_update,
    smoke_a_big_model,
    smoke_step,
    warn,
)
from kgen.errors import KgenError

SETTINGS: dict[str, Any] = {
    "name": "kgen",
    "help": "Generate standalone Keras 3 training projects from architecture "
    "patterns.\n\nExample: [bold]kgen new siamese demo --yes[/bold]",
    "no_args_is_help": True,
    "rich_markup_mode": "rich",
    "context_settings": {"help_option_names": ["-h", "--help"]},
    "add_completion": False,
}
UPDATE_EXAMPLES = (
    "Examples:\n\n"
    "  kgen update                       # newest template, same answers\n\n"
    "  kgen update demo --set branches=4 --set merge=add\n\n"
    "  kgen update demo --conflict rej --smoke"
)


def version_option(value: bool) -> None:
    if value:
        typer.echo(f"kgen {__version__}")
        raise typer.Exit()


def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=version_option,
            is_eager=True,
            help="Show kgen's version and exit.",
        ),
    ] = None,
) -> None:
    """Generate standalone Keras 3 training projects from architecture patterns."""


def patterns() -> None:
    """List the architecture patterns `kgen new` can generate."""
    from kgen.project import pattern_catalog
    from kgen.store import builtin_template

    catalog = pattern_catalog(builtin_template())
    width = max(map(len, catalog))
    for name, description in catalog.items():
        typer.echo(f"{name.ljust(width)}  {description}".rstrip())


def update(
    project: Annotated[
        Path, typer.Argument(help="The project to update (default: here).")
    ] = Path("."),
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Change an answer: KEY=VALUE, repeatable (e.g. branches=4)."
        ),
    ] = None,
    conflict: Annotated[
        Literal["inline", "rej"],
        typer.Option(
            help="Where an edit of yours and a template change collide: inline "
            "conflict markers, or the template's change in a .rej file beside it."
        ),
    ] = "inline",
    smoke: Annotated[
        bool, typer.Option(help="Smoke-train the project after updating.")
    ] = False,
    template: Annotated[
        Path | None,
        typer.Option(
            help="For projects made from a template directory: that directory, "
            "whose current state becomes the template's newest version."
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option(help="Template version (git tag) to update to; default: latest."),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(help="Let the template run its own code (tasks, migrations)."),
    ] = False,
) -> None:
    """Bring the newest template, or changed answers, into an edited project.

    A 3-way update by copier: your edits are kept, the template's changes applied,
    and where both touch the same lines you get conflict markers (or .rej files).
    The project must be a clean git checkout, so the update can be reviewed and
    undone. Exits with 1 when conflicts need resolving.
    """
    from kgen.flags import parse_settings
    from kgen.update import update as run_update

    terminal = console()
    try:
        with terminal.status("Updating the project..."):
            report = run_update(
                project,
                parse_settings(set_ or [], {}),
                conflict=conflict,
                trust=trust,
                vcs_ref=vcs_ref,
                template=template,
            )
    except KgenError as error:
        fail(error)
    report_update(terminal, project, report)
    if smoke:
        smoke_step(terminal, project.absolute(), report.smoke_module)


def check(
    project: Annotated[
        Path, typer.Argument(help="The project to check (default: here).")
    ] = Path("."),
) -> None:
    """Say whether PROJECT is behind its template's newest version.

    Exits with 0 when up to date and 1 when behind (for CI), 2 on bad input.
    """
    from kgen.update import check as run_check

    try:
        report = run_check(project)
    except KgenError as error:
        fail(error)
    if report.behind:
        typer.echo(
            f"{project}: template {report.current}, newest {report.newest}; "
            f"run `kgen update {project}`"
        )
        raise typer.Exit(1)
    typer.echo(f"{project}: up to date (template {report.current})")


def new(request: Any) -> None:
    """`kgen new` once its flags are parsed: `request` is a `kgen.flags.NewRequest`."""
    from kgen import project
    from kgen.flags import parse_settings
    from kgen.smoke import SMOKE_PARAMETERS, Prewarmed, missing_backend

    try:
        given = request.answers | parse_settings(request.settings, request.answers)
        plan = project.plan(
            request.source,
            given,
            request.dest,
            ask=ask if request.ask else None,
            force=request.force,
        )
        smoke = request.smoke and plan.smoke_module is not None
        if smoke and (problem := missing_backend()):
            raise KgenError(problem)
        if smoke and plan.parameters > SMOKE_PARAMETERS and not request.any_size:
            smoke = smoke_a_big_model(plan.parameters, SMOKE_PARAMETERS, request.ask)
        with contextlib.ExitStack() as stack:
            # Start Keras now, in another process, while the project renders.
            warm = stack.enter_context(Prewarmed()) if smoke else None
            start = time.perf_counter()  # sub-second: no spinner, no rich import
            path = project.create(plan, trust=request.trust, force=request.force)
            size = f"; {plan.parameters:,} parameters" if plan.parameters else ""
            done(
                f"Generated {plan.answers['pattern']} project in {path} "
                f"({time.perf_counter() - start:.2f} s){size}"
            )
            if project.missing_answers_file(plan, path):
                warn(
                    f"warning: template {plan.source.label} writes no "
                    f"{plan.answers_file}, so "
                    "`kgen update` cannot update this project later; add the file "
                    "'{{ _copier_conf.answers_file }}.jinja' holding "
                    "'{{ _copier_answers|to_nice_yaml -}}' to the template"
                )
            if request.smoke:
                module = plan.smoke_module if smoke else None
                smoke_step(console(), path, module, warm)
    except KgenError as error:
        fail(error)
    if plan.source.builtin:
        next_steps(plan, path)


@contextlib.contextmanager
def application(args: list[str]) -> Iterator[typer.Typer]:
    """kgen's typer app for the command line `args`, with `new`'s flags from them.

    `kgen new PATTERN ...` gets the template's questions for PATTERN as flags; the
    template (cloned, for a git one) stays open while the app runs.
    """
    from kgen.flags import new_command, placeholder

    app = typer.Typer(**SETTINGS)
    app.callback()(main)
    app.command()(patterns)
    app.command(epilog=UPDATE_EXAMPLES)(update)
    app.command()(check)
    with contextlib.ExitStack() as stack:
        command, settings = (
            new_command(args[1:], stack, new) if args[:1] == ["new"] else placeholder()
        )
        app.command("new", **settings)(command)
        yield app


def run(argv: list[str] | None = None) -> None:
    """The `kgen` command: every error on one line, `error: what; how to fix`.

    Bad flags and values exit with 2, like kgen's own KgenErrors; a bare `kgen`
    prints its help.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with application(args) as app:
            code = app(args=args, prog_name="kgen", standalone_mode=False)
    except KgenError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.secho("error: aborted", fg="red", err=True)
        sys.exit(1)
    except Exception as error:
        # typer's (vendored click's) usage errors: they carry the message and code.
        if not callable(getattr(error, "format_message", None)):
            raise
        context = getattr(error, "ctx", None)
        if context is not None and not args:
            typer.echo(context.get_help())  # bare `kgen`: its help
            sys.exit(0)
        message = " ".join(error.format_message().split()).rstrip(".")
        if context is not None:
            message += f"; see `{context.command_path} --help`"
        typer.secho(f"error: {message}", fg="red", err=True)
        sys.exit(getattr(error, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)
