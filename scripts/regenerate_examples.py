"""Regenerate generated_examples/: one project per pattern, with its defaults.

    python scripts/regenerate_examples.py

tests/test_gallery.py fails when the gallery and the template disagree.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "generated_examples"
sys.path.insert(0, str(ROOT))

from kgen.generate import render  # noqa: E402
from kgen.patterns import PATTERNS  # noqa: E402
from kgen.questions import Questionnaire, load_questions  # noqa: E402
from kgen.template import builtin_template  # noqa: E402

# The answers file records where the template was; in the gallery, say it relative
# to the repository rather than the machine that rendered it.
SOURCE_LINE = "_src_path: templates/keras\n"


def render_example(pattern: str, dest: Path) -> Path:
    """Render `pattern` with its defaults into `dest`, as the gallery holds it."""
    template = builtin_template()
    answers = Questionnaire(load_questions(template)).resolve(
        {"pattern": pattern, "project_name": pattern}
    )
    project = render(template, dest, answers)
    answers_file = project / ".copier-answers.yml"
    lines = answers_file.read_text(encoding="utf-8").splitlines(keepends=True)
    answers_file.write_text(
        "".join(
            SOURCE_LINE if line.startswith("_src_path:") else line for line in lines
        ),
        encoding="utf-8",
    )
    return project


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        for pattern in PATTERNS:
            fresh = render_example(pattern, Path(scratch) / pattern)
            target = GALLERY / pattern
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(fresh, target)
            print(f"generated_examples/{pattern}")


if __name__ == "__main__":
    main()
