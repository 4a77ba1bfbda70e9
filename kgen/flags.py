"""`kgen new`'s command, its flags derived from the template's questions at run time.

Each question of copier.yml becomes a typer option: its name, type, choices, help
and, for `--help`, its default for the pattern asked about. Which pattern a question
belongs to comes from its `when` (`Questionnaire.applies`), so `kgen new parallel
--help` lists parallel's questions and the common ones, and `--margin` there is an
error that says where it belongs. The same code serves custom templates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from kgen.errors import KgenError

RUN = "Run"
TEMPLATE = "Template"
COMMON = "Every pattern"
HELP = (
    "Generate a training project for PATTERN, format it and smoke-train it.\n\n"
    "Every question of the template is a flag: `kgen new PATTERN --help` lists "
    "PATTERN's. Answers not given are asked for when stdin is a terminal, and take "
    "the pattern's defaults with --yes or without a terminal."
)
EXAMPLES = [
    "kgen new siamese demo --yes",
    "kgen new siamese faces --input-shape 32x32x3 --distance cosine",
    "kgen new siamese pairs --loss binary_crossentropy --embedding-dim 32",
    "kgen new parallel wide --branches 4 --merge weighted_average",
    "kgen new parallel aux --branches 3 --branch-outputs --aux-loss-weight 0.5",
    "kgen new multi-input sensors --input-widths 10,15,4",
    "kgen new multi-output tickets --heads priority:regression,"
    "department:classification:4 --loss-weights department=0.2",
    "kgen new encoder-decoder copy --cell gru --units 64",
    "kgen new siamese demo --template ./our-starter --set owner=ml-team",
]


@dataclasses.dataclass(frozen=True)
class NewRequest:
    """What `kgen new` was asked for, flags parsed, answers not yet checked."""

    source: Any  # kgen.template.TemplateSource
    answers: dict[str, Any]  # the pattern and the questions given as flags
    settings: list[str]  # --set KEY=VALUE, parsed and checked by `plan`'s caller
    dest: Path | None
    ask: bool
    smoke: bool
    any_size: bool
    force: bool
    trust: bool


def base(
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
            help="Your own copier template instead of the built-in one: a directory, "
            "git URL or git bundle, optionally @TAG (e.g. git@host:team/starter.git@v2"
            "); an older release of the built-in one: "
            "~/.kgen/templates/keras.bundle@v0.9.0.",
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
    """The flags of `kgen new` that are not template questions (signature only)."""


BASE = inspect.signature(base, eval_str=True)
VALUE_FLAGS = {"--template", "--set"}  # base flags that take a value


def new_command(
    args: list[str], stack: contextlib.ExitStack, run: Callable[[NewRequest], None]
) -> tuple[Callable[..., None], dict[str, Any]]:
    """The `new` command function for `args` (what follows `kgen new`) and its
    `app.command` settings. The template is opened on `stack`; the command hands
    its parsed flags, as a `NewRequest`, to `run` (`kgen.cli.new`).

    A problem found here (an unknown pattern, a template that cannot be read, a flag
    of another pattern) is raised by the command when it runs, so it is reported
    like every other error of `kgen new`.
    """
    try:
        return _new_command(args, stack, run)
    except KgenError as error:
        problem = error

    def failing(
        extra: Annotated[list[str] | None, typer.Argument(hidden=True)] = None,
    ) -> None:
        from kgen.console import fail

        fail(problem)

    return failing, {"context_settings": {"ignore_unknown_options": True}}


def placeholder() -> tuple[Callable[..., None], dict[str, Any]]:
    """`new` as `kgen --help` lists it, without reading the template."""

    def command() -> None:  # pragma: no cover - `kgen new` builds the real one
        raise AssertionError("kgen new is built by new_command")

    return command, {"help": HELP, "short_help": "Generate a training project."}


def _new_command(
    args: list[str], stack: contextlib.ExitStack, run: Callable[[NewRequest], None]
) -> tuple[Callable[..., None], dict[str, Any]]:
    from kgen.questions import Questionnaire, load_questions
    from kgen.template import open_template

    helping = bool({"-h", "--help"} & set(args))
    source = stack.enter_context(
        open_template(_value_of(args, "--template"), versioned=not helping)
    )
    questions = [
        question
        for question in load_questions(source.local)
        if question.name != "pattern"
        and question.name.isidentifier()
        and question.name not in BASE.parameters
    ]
    by_flag = {question.flag: question for question in questions}
    by_flag |= {f"--no-{q.flag[2:]}": q for q in questions if q.type == "bool"}
    takes_value = VALUE_FLAGS | {q.flag for q in questions if q.type != "bool"}
    pattern, used = _scan(args, takes_value, set(by_flag))
    catalog = _catalog(source.local)
    if pattern is not None and catalog:
        from kgen.project import check_pattern

        check_pattern(pattern, list(catalog))
    questionnaire = Questionnaire(questions, root=source.local)
    # Which questions every pattern asks: only the help shows the difference.
    patterns = list(catalog) if helping or pattern is None else [pattern]
    common = {
        q.name for q in questions if all(questionnaire.applies(q, p) for p in patterns)
    }
    if pattern is None:
        shown = [q for q in questions if q.name in common]
    else:
        shown = [q for q in questions if questionnaire.applies(q, pattern)]
        for flag in used:
            question = by_flag[flag]
            if question not in shown:
                raise KgenError(
                    f"{flag} does not apply to the {pattern} pattern; "
                    f"`kgen new {pattern} --help` lists its flags"
                )
    defaults = _defaults(source, pattern) if helping and pattern else {}
    parameters = [
        _option(
            question,
            COMMON if question.name in common else f"Pattern: {pattern}",
            defaults.get(question.name),
        )
        for question in shown
    ]

    def command(**values: Any) -> None:
        flags = {name: values.pop(name) for name in BASE.parameters}
        given = {
            name: value for name, value in values.items() if value not in (None, [])
        }
        run(
            NewRequest(
                source=source,
                answers={"pattern": flags["pattern"], **given},
                settings=flags["set_"] or [],
                dest=flags["dest"],
                ask=flags["interactive"] or (not flags["yes"] and _terminal()),
                smoke=flags["smoke"],
                any_size=flags["smoke_any_size"],
                force=flags["force"],
                trust=flags["trust"],
            )
        )

    # Panels show in the order their first flag comes: the pattern's, the common
    # questions, then kgen's own.
    parameters.sort(key=lambda parameter: parameter.name in common)
    pattern_, dest_, *options = BASE.parameters.values()
    kgen_options = [option.replace(kind=option.KEYWORD_ONLY) for option in options]
    signature = BASE.replace(parameters=[pattern_, dest_, *parameters, *kgen_options])
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {
        p.name: p.annotation for p in signature.parameters.values()
    }
    listing = ", ".join(catalog) if catalog else "see `kgen patterns`"
    examples = [e for e in EXAMPLES if pattern is None or f" {pattern} " in f"{e} "]
    return command, {
        "help": f"{HELP}\n\nPatterns: {listing}.",
        "epilog": "Examples:\n\n" + "\n\n".join(f"  {e}" for e in examples),
        "short_help": "Generate a training project for PATTERN.",
    }


def _option(question: Any, panel: str, default: Any) -> inspect.Parameter:
    """The typer option for one question, named and typed after it."""
    kind: Any = {"bool": bool, "int": int, "float": float}.get(question.type, str)
    if question.choices is not None and not question.multiselect:
        kind = Literal[tuple(str(value) for _, value in question.choices)]  # type: ignore[valid-type]
    if question.multiselect:  # copier checks the items against the choices
        kind = list[str]
    metavar = {"json": "JSON", "yaml": "YAML", "path": "PATH"}.get(question.type)
    option = typer.Option(
        help=question.help or question.name,
        rich_help_panel=panel,
        show_default=_shown(default),
        metavar=metavar,
    )
    return inspect.Parameter(
        question.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[kind | None, option],
    )


def _shown(default: Any) -> str | bool:
    if default is None or default == "":
        return False
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list):
        return ", ".join(map(str, default)) or False
    return str(default)


def _defaults(source: Any, pattern: str) -> dict[str, Any]:
    """Every question's default for a new project of `pattern`, for `--help`."""
    from kgen.questions import Questionnaire

    questionnaire = Questionnaire.of(source.local)
    try:
        defaults = questionnaire.resolve({"pattern": pattern})
    except KgenError:  # e.g. a question without a default: show none
        return {}
    # A question that does not apply at the defaults (--aux-loss-weight needs
    # --branch-outputs) shows the default it takes once it applies.
    for question in questionnaire.questions:
        if question.name not in defaults and question.default is not None:
            try:
                rendered = questionnaire.render(question.default, defaults)
            except Exception:  # a default that needs answers not given: none
                continue
            defaults[question.name] = rendered
    return defaults


def _catalog(template: Path) -> dict[str, str]:
    from kgen.project import pattern_catalog

    return pattern_catalog(template)


def _value_of(args: list[str], flag: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(flag + "="):
            return arg.partition("=")[2]
    return None


def _scan(
    args: list[str], takes_value: set[str], questions: set[str]
) -> tuple[str | None, list[str]]:
    """The pattern (the first positional argument) and the question flags used."""
    pattern, used, skip = None, [], False
    for index, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--":
            rest = args[index + 1 :]
            return (pattern or (rest[0] if rest else None)), used
        elif arg.startswith("--"):
            name = arg.partition("=")[0]
            if name in questions:
                used.append(name)
            skip = name in takes_value and "=" not in arg
        elif arg.startswith("-") and len(arg) > 1:
            continue
        elif pattern is None:
            pattern = arg
    return pattern, used


def _terminal() -> bool:
    import sys

    return sys.stdin.isatty()


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
