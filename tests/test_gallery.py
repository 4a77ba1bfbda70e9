"""generated_examples/ must be exactly what the template renders today."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PATTERNS, ROOT

spec = importlib.util.spec_from_file_location(
    "regenerate_examples", ROOT / "scripts" / "regenerate_examples.py"
)
regenerate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(regenerate)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_every_pattern_is_in_the_gallery() -> None:
    assert sorted(p.name for p in (ROOT / "generated_examples").iterdir()) == sorted(
        PATTERNS
    )


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_gallery_matches_the_template(pattern: str, tmp_path: Path) -> None:
    fresh = tree(regenerate.render_example(pattern, tmp_path / pattern))
    checked_in = tree(ROOT / "generated_examples" / pattern)
    stale = sorted(
        name
        for name in fresh.keys() | checked_in.keys()
        if fresh.get(name) != checked_in.get(name)
    )
    assert not stale, (
        f"generated_examples/{pattern} is out of date ({', '.join(stale)}); "
        "run: python scripts/regenerate_examples.py"
    )


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_copier_output_needs_no_formatting(
    pattern: str, template: Path, tmp_path: Path
) -> None:
    """What copier renders by itself is already black-formatted.

    `kgen update` lets copier render the old and the new template version, unformatted,
    to diff them against the project; formatting differences would show up as edits
    and could collide with template changes as false conflicts.
    """
    import copier

    from kgen.formatting import format_tree

    copier.run_copy(
        str(template),
        tmp_path,
        data={"pattern": pattern, "project_name": pattern},
        defaults=True,
        quiet=True,
    )
    assert [str(path.relative_to(tmp_path)) for path in format_tree(tmp_path)] == []


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_every_file_the_readme_names_exists(pattern: str) -> None:
    project = ROOT / "generated_examples" / pattern
    package = pattern.replace("-", "_")
    readme = (project / "README.md").read_text(encoding="utf-8")
    named = re.findall(rf"`((?:{package}|tests)/[\w/.]*)`", readme)
    missing = [path for path in named if not (project / path).exists()]
    assert len(named) >= 5 and not missing, f"README.md names missing files: {missing}"


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_dense_projects_turn_onednn_off_unless_told(pattern: str) -> None:
    """The Dense-only projects set TF_ENABLE_ONEDNN_OPTS=0 on import, before
    TensorFlow reads it (faster for small Dense models, README's Performance); the
    encoder-decoder (LSTM) keeps TensorFlow's default, and a value already set wins."""
    project = ROOT / "generated_examples" / pattern
    package = pattern.replace("-", "_")
    probe = f"import os, {package}; print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"

    def imported_with(**preset: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
        # Set, so the package does not import Keras (and TensorFlow) to quiet it.
        env.update(TF_CPP_MIN_LOG_LEVEL="3", **preset)
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    assert imported_with() == ("None" if pattern == "encoder-decoder" else "0")
    assert imported_with(TF_ENABLE_ONEDNN_OPTS="1") == "1"
