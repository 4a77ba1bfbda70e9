"""The `kgen` command line.

Only typer is imported at start-up: copier, black, YAML and TensorFlow load inside
the commands that need them, so `kgen --help` stays fast.
"""

from __future__ import annotations

import contextlib
import difflib
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer

from kgen import __version__
from kgen.errors import KgenError, SmokeTrainError
from kgen.patterns import PATTERNS

app = typer.Typer(
    name="kgen",
    help=(
        "Generate standalone Keras 3 training projects from architecture patterns.\n\n"
        "Example: [bold]kgen new siamese demo --yes[/bold]"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)

PROJECT = "Project"
INPUT = "Input"
SIAMESE = "Pattern: siamese"
PARALLEL = "Pattern: parallel"
MULTI_INPUT = "Pattern: multi-input"
MULTI_OUTPUT = "Pattern: multi-output"
ENCODER_DECODER = "Pattern: encoder-decoder"
CLASSIFIERS = "Patterns: parallel, multi-input, multi-output"
TRANSFORM = "Output transform (every pattern)"
TRAINING = "Training defaults"
RUN = "Run"
TEMPLATE = "Template"
# Options of `kgen new` that are not template questions.
RUN_OPTIONS = {
    "dest",
    "yes",
    "interactive",
    "smoke",
    "smoke_any_size",
    "force",
    "template",
    "set_",
    "trust",
}


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kgen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show kgen's version and exit.",
        ),
    ] = None,
) -> None:
    """Generate standalone Keras 3 training projects from architecture patterns."""


@app.command()
def patterns() -> None:
    """List the architecture patterns `kgen new` can generate."""
    width = max(map(len, PATTERNS))
    for name, description in PATTERNS.items():
        typer.echo(f"{name.ljust(width)}  {description}")


def _ask(question: Any, default: Any, problem: str | None) -> Any:
    if problem:
        typer.secho(f"  {problem}", fg="red", err=True)
    text = question.help or question.name
    if question.choices:
        text += f" ({' / '.join(map(str, question.choices.values()))})"
    if question.type == "bool":
        # Checked by the questionnaire, which says which answers it takes.
        return typer.prompt(f"{text} (y/n)", default="y" if default else "n")
    return typer.prompt(text, default="" if default is None else str(default))


@app.command(
    epilog=(
        "Examples:\n\n"
        "  kgen new siamese demo --yes\n\n"
        "  kgen new siamese faces --input-shape 32x32x3 --distance cosine\n\n"
        "  kgen new siamese pairs --loss binary_crossentropy --embedding-dim 32\n\n"
        "  kgen new parallel wide --branches 4 --merge weighted_average\n\n"
        "  kgen new parallel aux --branches 3 --branch-outputs"
        " --aux-loss-weight 0.5\n\n"
        "  kgen new multi-input sensors --input-widths 10,15,4\n\n"
        "  kgen new multi-output tickets --heads priority:regression,"
        "department:classification:4 --loss-weights department=0.2"
    )
)
def new(
    pattern: Annotated[
        str, typer.Argument(help="Architecture pattern; `kgen patterns` lists them.")
    ],
    dest: Annotated[
        Path | None,
        typer.Argument(
            help="New directory for the project (default: ./PROJECT_NAME).",
            show_default=False,
        ),
    ] = None,
    project_name: Annotated[
        str | None,
        typer.Option(
            help="Distribution name (default: DEST's name).", rich_help_panel=PROJECT
        ),
    ] = None,
    package_name: Annotated[
        str | None,
        typer.Option(
            help="Python package name (default: from the project name).",
            rich_help_panel=PROJECT,
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(help="One-line project description.", rich_help_panel=PROJECT),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option(help="Author for pyproject.toml.", rich_help_panel=PROJECT),
    ] = None,
    input_shape: Annotated[
        str | None,
        typer.Option(
            help="One input's shape: a width (32) or HxWxC for images (28x28x1).",
            rich_help_panel=INPUT,
        ),
    ] = None,
    encoder_depth: Annotated[
        int | None,
        typer.Option(
            help="Hidden layers (vectors) or conv blocks (images) in the encoder.",
            rich_help_panel=SIAMESE,
        ),
    ] = None,
    encoder_width: Annotated[
        int | None,
        typer.Option(
            help="Units or filters per encoder layer.", rich_help_panel=SIAMESE
        ),
    ] = None,
    embedding_dim: Annotated[
        int | None,
        typer.Option(
            help="Size of the embedding (siamese, encoder-decoder).",
            rich_help_panel=SIAMESE,
        ),
    ] = None,
    distance: Annotated[
        Literal["l1", "euclidean", "cosine"] | None,
        typer.Option(
            help="Distance between embeddings (siamese).", rich_help_panel=SIAMESE
        ),
    ] = None,
    loss: Annotated[
        Literal["contrastive", "binary_crossentropy"] | None,
        typer.Option(help="Training loss (siamese).", rich_help_panel=SIAMESE),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(help="Margin of the contrastive loss.", rich_help_panel=SIAMESE),
    ] = None,
    input_widths: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated widths of the inputs, e.g. 10,15.",
            rich_help_panel=MULTI_INPUT,
        ),
    ] = None,
    shared_width: Annotated[
        int | None,
        typer.Option(
            help="Width of the shared layer and of each input's projection.",
            rich_help_panel=MULTI_INPUT,
        ),
    ] = None,
    branches: Annotated[
        int | None,
        typer.Option(help="Parallel branches, 1 to 32.", rich_help_panel=PARALLEL),
    ] = None,
    branch_depth: Annotated[
        int | None,
        typer.Option(help="Dense layers per branch.", rich_help_panel=PARALLEL),
    ] = None,
    branch_width: Annotated[
        int | None,
        typer.Option(help="Units per branch layer.", rich_help_panel=PARALLEL),
    ] = None,
    activation: Annotated[
        Literal["relu", "gelu", "silu", "tanh"] | None,
        typer.Option(help="Hidden activation.", rich_help_panel=CLASSIFIERS),
    ] = None,
    shared_weights: Annotated[
        bool | None,
        typer.Option(
            help="One stack shared by all branches, each reading its own input slice.",
            rich_help_panel=PARALLEL,
        ),
    ] = None,
    merge: Annotated[
        Literal[
            "concat",
            "add",
            "subtract",
            "multiply",
            "average",
            "maximum",
            "weighted_average",
        ]
        | None,
        typer.Option(help="How branch outputs combine.", rich_help_panel=PARALLEL),
    ] = None,
    branch_outputs: Annotated[
        bool | None,
        typer.Option(
            help="Also an output (auxiliary head) per branch, with a weighted loss.",
            rich_help_panel=PARALLEL,
        ),
    ] = None,
    aux_loss_weight: Annotated[
        float | None,
        typer.Option(
            help="Loss weight of each branch output (combined output: 1.0).",
            rich_help_panel=PARALLEL,
        ),
    ] = None,
    num_classes: Annotated[
        int | None,
        typer.Option(help="Classes of the head.", rich_help_panel=CLASSIFIERS),
    ] = None,
    trunk_depth: Annotated[
        int | None,
        typer.Option(
            help="Dense layers in the shared trunk.", rich_help_panel=MULTI_OUTPUT
        ),
    ] = None,
    trunk_width: Annotated[
        int | None,
        typer.Option(help="Units per trunk layer.", rich_help_panel=MULTI_OUTPUT),
    ] = None,
    heads: Annotated[
        str | None,
        typer.Option(
            help="Heads, NAME:regression or NAME:classification:CLASSES, 2 to 8.",
            rich_help_panel=MULTI_OUTPUT,
        ),
    ] = None,
    loss_weights: Annotated[
        str | None,
        typer.Option(
            help="Loss weight per head, NAME=WEIGHT comma-separated (default 1.0).",
            rich_help_panel=MULTI_OUTPUT,
        ),
    ] = None,
    cell: Annotated[
        Literal["lstm", "gru"] | None,
        typer.Option(
            help="The shared recurrent layer.", rich_help_panel=ENCODER_DECODER
        ),
    ] = None,
    units: Annotated[
        int | None,
        typer.Option(
            help="Units of the recurrent layer.", rich_help_panel=ENCODER_DECODER
        ),
    ] = None,
    vocab_size: Annotated[
        int | None,
        typer.Option(
            help="Tokens, start token 0 included.", rich_help_panel=ENCODER_DECODER
        ),
    ] = None,
    sequence_length: Annotated[
        int | None,
        typer.Option(help="Length of the sequences.", rich_help_panel=ENCODER_DECODER),
    ] = None,
    output_transform: Annotated[
        Literal["none", "scale_shift", "log", "clip"] | None,
        typer.Option(
            help="In-graph transform of the outputs, in serving.keras.",
            rich_help_panel=TRANSFORM,
        ),
    ] = None,
    output_scale: Annotated[
        float | None,
        typer.Option(help="scale_shift: the scale.", rich_help_panel=TRANSFORM),
    ] = None,
    output_shift: Annotated[
        float | None,
        typer.Option(help="scale_shift: the shift.", rich_help_panel=TRANSFORM),
    ] = None,
    log_epsilon: Annotated[
        float | None,
        typer.Option(
            help="log: the epsilon in log(x + epsilon).", rich_help_panel=TRANSFORM
        ),
    ] = None,
    clip_min: Annotated[
        float | None,
        typer.Option(help="clip: the lower bound.", rich_help_panel=TRANSFORM),
    ] = None,
    clip_max: Annotated[
        float | None,
        typer.Option(help="clip: the upper bound.", rich_help_panel=TRANSFORM),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="Default training epochs.", rich_help_panel=TRAINING),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Default batch size.", rich_help_panel=TRAINING),
    ] = None,
    learning_rate: Annotated[
        float | None,
        typer.Option(help="Default Adam learning rate.", rich_help_panel=TRAINING),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Use defaults for every answer not given as a flag.",
            rich_help_panel=RUN,
        ),
    ] = False,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            "-i",
            help="Ask for missing answers even when stdin is not a terminal.",
            rich_help_panel=RUN,
        ),
    ] = False,
    smoke: Annotated[
        bool,
        typer.Option(
            help="Smoke-train the new project for a few steps.", rich_help_panel=RUN
        ),
    ] = True,
    smoke_any_size: Annotated[
        bool,
        typer.Option(
            help="Smoke-train even a model over 50 M parameters (asked in a "
            "terminal, skipped with --yes).",
            rich_help_panel=RUN,
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            help="Write into a non-empty DEST: the template's files replace "
            "same-named ones; nothing else is touched or deleted.",
            rich_help_panel=RUN,
        ),
    ] = False,
    template: Annotated[
        str | None,
        typer.Option(
            help="Your own copier template instead of the built-in one: a directory "
            "or git URL, optionally @TAG (e.g. git@host:team/starter.git@v2).",
            rich_help_panel=TEMPLATE,
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Answer any question of the template: KEY=VALUE, repeatable.",
            rich_help_panel=TEMPLATE,
        ),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            help="Let the template run its own code (copier _tasks, migrations, "
            "Jinja extensions).",
            rich_help_panel=TEMPLATE,
        ),
    ] = False,
) -> None:
    """Generate a training project for PATTERN, format it and smoke-train it.

    Every question of the template is a flag. Answers not given are asked for when
    stdin is a terminal, and take the pattern's defaults with --yes or without one.
    """
    given = {
        name: value
        for name, value in locals().items()
        if name not in RUN_OPTIONS and value is not None
    }
    try:
        given |= parse_settings(set_ or [], given)
        _new(
            given,
            dest,
            ask=interactive or (not yes and sys.stdin.isatty()),
            smoke=smoke,
            smoke_any_size=smoke_any_size,
            template=template,
            trust=trust,
            force=force,
        )
    except KgenError as error:
        fail(error)


# Above this many parameters kgen asks before smoke-training (skips it with --yes):
# float32 weights, their gradients and Adam's two moments take 16 bytes a parameter,
# about 0.8 GB here, and a CPU takes minutes per step.
SMOKE_PARAMETERS = 50_000_000


def _smoke_a_big_model(parameters: int, ask: bool) -> bool:
    """Whether to smoke-train a model of more than SMOKE_PARAMETERS parameters."""
    size = (
        f"the model has {parameters:,} parameters, over the smoke run's limit of "
        f"{SMOKE_PARAMETERS:,} (training it takes about "
        f"{parameters * 16 / 1e9:.1f} GB of memory)"
    )
    if ask:
        reply = typer.prompt(f"{size[0].upper()}{size[1:]}; smoke-train it? (y/n)", "n")
        return str(reply).strip().lower() in {"y", "yes"}
    typer.secho(
        f"smoke run skipped: {size}; pass --smoke-any-size to smoke-train it anyway",
        fg="yellow",
        err=True,
    )
    return False


def fail(error: KgenError) -> NoReturn:
    """Print `error` on one line and exit with status 2 (bad input)."""
    typer.secho(f"error: {error}", fg="red", err=True)
    raise typer.Exit(2) from None


def parse_settings(settings: list[str], given: dict[str, Any]) -> dict[str, str]:
    """`KEY=VALUE` strings as answers; a key may not also be given as a flag."""
    answers: dict[str, str] = {}
    for setting in settings:
        key, equals, value = setting.partition("=")
        key = key.strip()
        if not equals or not key.isidentifier():
            raise KgenError(
                f"--set {setting!r} is not KEY=VALUE; e.g. --set branches=4"
            )
        if key in given or key in answers:
            raise KgenError(f"{key} is given twice; keep one --set or flag")
        answers[key] = value
    return answers


def _new(
    given: dict[str, Any],
    dest: Path | None,
    ask: bool,
    smoke: bool,
    template: str | None = None,
    trust: bool = False,
    force: bool = False,
    smoke_any_size: bool = False,
) -> None:
    from rich.console import Console

    from kgen.generate import ANSWERS_FILE, check_destination, render
    from kgen.questions import Questionnaire, load_questions, load_settings
    from kgen.smoke import Prewarmed
    from kgen.store import ensure_store
    from kgen.template import open_template

    pattern = given["pattern"]
    if template is None and pattern not in PATTERNS:
        close = difflib.get_close_matches(pattern, PATTERNS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see `kgen patterns`"
        raise KgenError(f"unknown pattern {pattern!r}; {hint}")
    if dest is not None:  # before any prompt; render() checks again before writing
        check_destination(dest, force)

    console = Console(stderr=True, soft_wrap=True)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_template(template))
        if source.builtin:
            ensure_store()  # what the project's answers file will point at
        questions = load_questions(source.local)
        if template is not None and "pattern" not in {q.name for q in questions}:
            raise KgenError(
                f"template {template} has no `pattern` question, which kgen templates "
                "choose the architecture with; add one (see the README)"
            )
        questionnaire = Questionnaire(questions, root=source.local)
        # `kgen new siamese .` names the project after the directory it stands in.
        defaults = {"project_name": dest.resolve().name} if dest is not None else {}
        answers = questionnaire.resolve(
            given, ask=_ask if ask else None, defaults=defaults
        )
        settings = load_settings(source.local)
        smoke_module = questionnaire.render(settings.get("kgen_smoke"), answers)
        parameters = int(
            questionnaire.render(settings.get("kgen_parameters", "0"), answers) or 0
        )
        if (
            smoke
            and smoke_module
            and parameters > SMOKE_PARAMETERS
            and not (smoke_any_size)
        ):
            smoke = _smoke_a_big_model(parameters, ask)
        dest = dest if dest is not None else Path(answers["project_name"])
        warm = None
        if smoke and smoke_module:
            # Start TensorFlow now, in another process, while the project renders.
            warm = stack.enter_context(Prewarmed())
        start = time.perf_counter()
        with console.status("Rendering the project..."):
            project = render(
                source.url,
                dest,
                answers,
                vcs_ref=source.ref,
                trust=trust,
                record=source.record,
                force=force,
                label=template,
            )
        size = f"; {parameters:,} parameters" if parameters else ""
        console.print(
            f"[green]✓[/green] Generated {answers['pattern']} project in {project} "
            f"({time.perf_counter() - start:.2f} s){size}"
        )
        answers_file = settings.get("answers_file", ANSWERS_FILE)
        if template is not None and not (project / answers_file).is_file():
            typer.secho(
                f"warning: template {template} writes no {answers_file}, so "
                "`kgen update` cannot update this project later; add the file "
                "'{{ _copier_conf.answers_file }}.jinja' holding "
                "'{{ _copier_answers|to_nice_yaml -}}' to the template",
                fg="yellow",
                err=True,
            )
        if smoke and smoke_module:
            _smoke(console, project, smoke_module, warm)
        elif smoke:
            console.print(
                "  no smoke step: the template declares no _kgen_smoke module"
            )
    if template is not None:
        return  # the next steps below are the built-in template's
    steps = [
        ('pip install -e ".[cpu,dev]"', "# or .[cuda,dev]"),
        (f"python -m {answers['package_name']}.train", "# train on the built-in data"),
        ("pytest", "# run the project's tests"),
    ]
    if project != Path.cwd().resolve():
        steps.insert(0, (f"cd {shlex.quote(str(dest))}", ""))
    width = max(len(command) for command, _ in steps)
    typer.echo("\nNext:")
    for command, comment in steps:
        typer.echo(f"  {command.ljust(width)}  {comment}".rstrip())


@app.command(
    epilog=(
        "Examples:\n\n"
        "  kgen update                       # newest template, same answers\n\n"
        "  kgen update demo --set branches=4 --set merge=add\n\n"
        "  kgen update demo --conflict rej --smoke"
    )
)
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
    from rich.console import Console

    from kgen.update import update as run_update

    console = Console(stderr=True, soft_wrap=True)
    try:
        changes = parse_settings(set_ or [], {})
        with console.status("Updating the project..."):
            report = run_update(
                project,
                changes,
                conflict=conflict,
                trust=trust,
                vcs_ref=vcs_ref,
                template=template,
            )
    except KgenError as error:
        fail(error)
    versions = (
        f"template {report.old_version} → {report.new_version}"
        if report.old_version != report.new_version
        else f"template {report.new_version}"
    )
    if not report.changed:
        console.print(f"[green]✓[/green] Up to date ({versions}); nothing changed")
    else:
        console.print(
            f"[green]✓[/green] Updated {project} ({versions}): "
            f"{len(report.changed)} path{'s' if len(report.changed) > 1 else ''} "
            "changed; review with `git diff`"
        )
        for line in report.changed:
            typer.echo(f"  {line}")
    if report.conflicts:
        typer.secho(
            f"conflicts in {', '.join(report.conflicts)}: your edits and the "
            "template's changes overlap; resolve them, then commit",
            fg="yellow",
            err=True,
        )
        raise typer.Exit(1)
    if smoke and report.smoke_module:
        _smoke(console, project.absolute(), report.smoke_module)
    elif smoke:
        console.print("  no smoke step: the template declares no _kgen_smoke module")


@app.command()
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


def _smoke(console: Any, project: Path, module: str, warm: Any = None) -> None:
    from kgen.smoke import smoke_train

    with console.status(
        "Smoke-training a few steps (TensorFlow takes a few seconds to start)..."
    ):
        try:
            report = smoke_train(project, module, warm)
        except KeyboardInterrupt:
            typer.secho(
                f"interrupted: smoke-training stopped; the project is kept in "
                f"{project}; train it with `cd {shlex.quote(str(project))} && "
                f"python -m {module}`",
                fg="yellow",
                err=True,
            )
            raise typer.Exit(130) from None
        except SmokeTrainError as error:
            typer.secho(
                f"error: {error}; the project is kept in {project}, "
                f"see the log: {error.log}",
                fg="red",
                err=True,
            )
            raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] Smoke-trained: {report.summary}")
    console.print(f"  outputs in {report.output_dir}")


def run(argv: list[str] | None = None) -> None:
    """The `kgen` command: typer's app, with its usage errors on one line, exit 2.

    Typer prints a bad flag or value in a box over several lines; kgen prints every
    error the same way, `error: what; how to fix`, so scripts and people see one line.
    """
    # The public typer.BadParameter derives from click's UsageError and ClickException.
    usage_error, click_exception = typer.BadParameter.__mro__[1:3]
    try:
        code = app(args=argv, prog_name="kgen", standalone_mode=False)
    except usage_error as error:
        if error.ctx is not None and not (argv if argv is not None else sys.argv[1:]):
            typer.echo(error.ctx.get_help())  # bare `kgen`: its help
            sys.exit(0)
        help_command = (
            f"{error.ctx.command_path} --help" if error.ctx else "kgen --help"
        )
        message = " ".join(error.format_message().split()).rstrip(".")
        typer.secho(f"error: {message}; see `{help_command}`", fg="red", err=True)
        sys.exit(2)
    except click_exception as error:
        typer.secho(f"error: {error.format_message()}", fg="red", err=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.secho("error: aborted", fg="red", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
