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
from kgen.template import builtin_source  # noqa: E402


def render_example(pattern: str, dest: Path) -> Path:
    """Render `pattern` with its defaults into `dest`, as the gallery holds it."""
    source = builtin_source()
    answers = Questionnaire(load_questions(source.local)).resolve(
        {"pattern": pattern, "project_name": pattern}
    )
    return render(source.url, dest, answers, record=source.record)


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
