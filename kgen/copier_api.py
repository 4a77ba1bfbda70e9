"""The parts of copier's internals kgen builds on, imported in one place.

copier exports only its run_* functions; its question machinery (`Question`,
`AnswersMap`), its `copier.yml` loader and its Jinja sandbox live in modules that
copier 9.x names with a leading underscore (and older 9.x releases without one).
kgen uses them so that questions mean exactly what they mean to copier, pins copier
to the 9.x series in pyproject.toml, and tests/test_questions.py checks the contract.
"""

from __future__ import annotations

try:
    from copier._jinja_ext import SandboxedEnvironment
    from copier._template import load_template_config
    from copier._tools import cast_to_bool
    from copier._types import MISSING
    from copier._user_data import AnswersMap
    from copier._user_data import Question as CopierQuestion
except ImportError:  # pragma: no cover - copier releases before the rename
    from copier.jinja_ext import SandboxedEnvironment  # type: ignore[no-redef]
    from copier.template import load_template_config  # type: ignore[no-redef]
    from copier.tools import cast_to_bool  # type: ignore[no-redef]
    from copier.types import MISSING  # type: ignore[no-redef]
    from copier.user_data import AnswersMap  # type: ignore[no-redef]
    from copier.user_data import Question as CopierQuestion  # type: ignore[no-redef]

__all__ = [
    "MISSING",
    "AnswersMap",
    "CopierQuestion",
    "SandboxedEnvironment",
    "cast_to_bool",
    "load_template_config",
]
