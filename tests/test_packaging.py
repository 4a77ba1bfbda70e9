"""The wheel carries the template, and an installed kgen finds it without the source."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from kgen.store import BUNDLE_SOURCE, template_tag


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )
    (wheel,) = out.glob("kgen-*.whl")
    return wheel


def test_the_wheel_ships_the_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    template = ROOT / "templates"
    expected = {
        "kgen/templates/" + str(path.relative_to(template))
        for path in template.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected <= names
    assert "kgen/templates/keras/copier.yml" in names
    assert "kgen/cli.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kgen = kgen.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_an_installed_kgen_renders_from_its_own_copy(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["--target", str(site), str(wheel)],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "kgen", "new", "siamese", "demo", "-y", "--no-smoke"],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = (elsewhere / "demo" / ".copier-answers.yml").read_text()
    # The project points at the template store the installed kgen set up.
    recorded = f"_commit: {template_tag()}\n_src_path: {BUNDLE_SOURCE}\n"
    assert recorded in answers
    packaged = site / "kgen" / "templates" / "keras.bundle"
    store = tmp_path / ".kgen" / "templates" / "keras.bundle"
    assert store.read_bytes() == packaged.read_bytes()
