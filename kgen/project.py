"""`kgen new` as a library: answer the template's questions, then render the project.

Nothing here prints: the CLI asks through the `ask` callback it passes in and
reports what these functions return.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

from kgen.errors import KgenError
from kgen.questions import Ask, Questionnaire, load_questions
from kgen.template import TemplateSource


@dataclasses.dataclass(frozen=True)
class Plan:
    """A project about to be rendered: every answer known, nothing written yet."""

    source: TemplateSource
    answers: dict[str, Any]
    dest: Path
    smoke_module: str | None  # `_kgen_smoke` ("PKG train"), if the template has one
    parameters: int  # what `_kgen_parameters` computes; 0 when it does not
    answers_file: str
    formatted: bool  # the template writes black-clean Python (`_kgen_formatted`)


def plan(
    source: TemplateSource,
    given: dict[str, Any],
    dest: Path | None,
    *,
    ask: Ask | None = None,
    force: bool = False,
) -> Plan:
    """Check `given` (the pattern among them) and answer the rest of the questions.

    Missing answers come from `ask` or, without it, from the defaults; the project
    name defaults to DEST's name. Raises KgenError on anything copier would refuse.
    """
    from kgen.generate import ANSWERS_FILE, check_destination

    questionnaire = Questionnaire.of(
        source.local, context={"_folder_name": (dest or Path.cwd()).resolve().name}
    )
    settings = questionnaire.settings
    by_name = {question.name: question for question in questionnaire.questions}
    if "pattern" not in by_name:
        raise KgenError(
            f"template {source.label} has no `pattern` question, which kgen "
            "templates choose the architecture with; add one (see the README)"
        )
    known = by_name["pattern"].choices
    if known is not None:
        check_pattern(str(given["pattern"]), [str(value) for _, value in known])
    if dest is not None:  # before any prompt; render() checks again before writing
        check_destination(dest, force)
    named = {"project_name": dest.resolve().name} if dest is not None else {}
    answers = questionnaire.resolve(given, ask=ask, defaults=named)
    smoke_module = questionnaire.render(settings.get("kgen_smoke"), answers)
    parameters = questionnaire.render(settings.get("kgen_parameters", 0), answers)
    return Plan(
        source=source,
        answers=answers,
        dest=dest if dest is not None else Path(str(answers["project_name"])),
        smoke_module=smoke_module or None,
        parameters=int(parameters or 0),
        answers_file=settings.get("answers_file", ANSWERS_FILE),
        formatted=bool(settings.get("kgen_formatted", False)),
    )


def check_pattern(pattern: str, known: list[str]) -> None:
    """Refuse a pattern the template does not offer, suggesting the closest."""
    if pattern not in known:
        close = difflib.get_close_matches(pattern, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see `kgen patterns`"
        raise KgenError(f"unknown pattern {pattern!r}; {hint}")


def create(plan: Plan, *, trust: bool = False, force: bool = False) -> Path:
    """Render `plan` into its destination, in one step (see `generate.render`)."""
    from kgen.generate import render
    from kgen.store import ensure_store

    if plan.source.builtin:
        ensure_store()  # what the project's answers file will point at
    return render(
        plan.source.url,
        plan.dest,
        plan.answers,
        vcs_ref=plan.source.ref,
        trust=trust,
        record=plan.source.record_for(plan.answers),
        force=force,
        label=plan.source.label,
        formatted=plan.formatted,
    )


def missing_answers_file(plan: Plan, project: Path) -> bool:
    """Whether a custom template left out the answers file `kgen update` needs."""
    return not plan.source.builtin and not (project / plan.answers_file).is_file()


def pattern_catalog(template: Path) -> dict[str, str]:
    """The template's patterns with their one-line descriptions, from copier.yml."""
    from kgen.questions import Question, own_questions

    spec = own_questions(template).get("pattern")
    if isinstance(spec, dict):
        question = Question("pattern", spec)
    else:  # not in copier.yml itself: read what it includes too
        question = next(
            (q for q in load_questions(template) if q.name == "pattern"), None
        )
    if question is None:
        return {}
    return {
        str(value): label.partition(": ")[2] for label, value in question.choices or []
    }
