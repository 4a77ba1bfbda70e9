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

from kgen import project  # noqa: E402
from kgen.template import builtin_source  # noqa: E402


def render_example(pattern: str, dest: Path) -> Path:
    """Render `pattern` with its defaults into `dest`, as the gallery holds it."""
    plan = project.plan(builtin_source(), {"pattern": pattern}, dest)
    return project.create(plan)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        for pattern in project.pattern_catalog(builtin_source().local):
            fresh = render_example(pattern, Path(scratch) / pattern)
            target = GALLERY / pattern
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(fresh, target)
            print(f"generated_examples/{pattern}")


if __name__ == "__main__":
    main()
