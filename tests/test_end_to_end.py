"""End to end: kgen new with its smoke-train, then the project's own checks.

Nothing is installed: the generated projects run against the current environment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PATTERNS, kgen, private_copy, run_in

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_kgen_new_smoke_trains_and_the_project_passes_its_checks(
    tmp_path: Path, pattern: str
) -> None:
    result = kgen("new", pattern, str(tmp_path / "demo"), "--yes")
    assert result.returncode == 0, result.stderr
    assert "Smoke-trained: loss" in result.stderr
    assert "python -m demo train" in result.stdout
    project = tmp_path / "demo"
    assert (project / "runs" / "smoke" / "best.keras").is_file()
    # The README's example objective for `tune` is a metric this pattern logs.
    readme = (project / "README.md").read_text(encoding="utf-8")
    objective = re.search(r"--objective (val_\w+)", readme)
    history = project / "runs" / "smoke" / "history.csv"
    assert objective and objective[1] in history.read_text().splitlines()[0].split(",")
    for check in (
        ["-m", "ruff", "check", "--no-cache", "."],
        ["-m", "black", "--check", "."],
    ):
        outcome = run_in(project, *check)
        assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    tests = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs")
    assert tests.returncode == 0, tests.stdout
    assert re.search(r"\b\d+ passed", tests.stdout), tests.stdout
    assert "skipped" not in tests.stdout, tests.stdout


# The strategies' code is the same for every pattern; these are the models furthest
# from parallel's, whose strategy tests the default tier runs (tests/test_update.py
# adds --scale-out to a parallel project). The covering array renders and lints
# --scale-out for every pattern.
@pytest.mark.extended
@pytest.mark.parametrize("pattern", ["siamese", "encoder-decoder"])
def test_scale_out_projects_train_on_two_devices_and_in_two_processes(
    render_project, tmp_path: Path, pattern: str
) -> None:
    # Every test of tests/test_scaling.py: mixed precision, and the strategies of
    # TensorFlow and JAX on two devices and across two processes (about 45 s each).
    project = private_copy(render_project(pattern, "--scale-out"), tmp_path)
    tests = run_in(
        project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_scaling.py"
    )
    assert tests.returncode == 0, tests.stdout
    assert re.search(r"\b\d+ passed", tests.stdout), tests.stdout
    assert "skipped" not in tests.stdout, tests.stdout


def test_an_image_project_trains_from_an_image_folder(
    render_project, tmp_path: Path
) -> None:
    # The gallery's siamese takes vectors; with images it reads class folders of
    # PNGs, and its full suite trains, evaluates and predicts from one, read into
    # memory and streamed (read per batch).
    flags = (
        "--input-shape",
        "12x12x3",
        "--distance",
        "cosine",
        "--loss",
        "binary_crossentropy",
    )
    project = private_copy(render_project(*flags), tmp_path)
    tests = run_in(project, "-m", "pytest", "-v", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout
    for way in ("in-memory", "streamed"):
        test = "test_images.py::test_train_evaluate_and_predict_from_an_image_folder"
        passed = f"{test}[{way}] PASSED"
        assert passed in tests.stdout, tests.stdout
    assert "SKIPPED" not in tests.stdout, tests.stdout


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(
            ("--distance", "l1", "--loss", "binary_crossentropy"),
            marks=pytest.mark.extended,
        ),
        ("parallel", "--branches", "3", "--branch-outputs", "--aux-loss-weight", "0.5"),
    ],
    ids=[
        "vector-l1-bce",
        "parallel-branch-outputs",
    ],
)
def test_variants_pass_their_own_tests(render_project, flags, tmp_path: Path) -> None:
    project = private_copy(render_project(*flags), tmp_path)
    tests = run_in(
        project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"
    )
    assert tests.returncode == 0, tests.stdout


def test_train_command_on_user_data(render_project, tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    data = tmp_path / "pairs.npz"
    np.savez(
        data,
        left=rng.normal(size=(200, 32)),
        right=rng.normal(size=(200, 32)),
        label=rng.integers(0, 2, size=200),
    )
    project = private_copy(render_project(), tmp_path)
    out = tmp_path / "run"
    result = run_in(
        project,
        "-m",
        "demo",
        "train",
        "--data",
        str(data),
        "--epochs",
        "2",
        "--output-dir",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "Test: loss" in result.stdout
    assert {"best.keras", "history.csv", "metrics.json", "logs"} <= {
        p.name for p in out.iterdir()
    }
    bad = run_in(project, "-m", "demo", "train", "--data", str(tmp_path / "nope.npz"))
    assert bad.returncode == 2
    assert "nope.npz does not exist" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_prewarmed_smoke_run_matches_a_fresh_process(
    render_project, tmp_path: Path
) -> None:
    """kgen imports Keras in a process started before rendering; same results."""
    from kgen.smoke import Prewarmed, smoke_train

    project = private_copy(render_project("parallel"), tmp_path)
    fresh = smoke_train(project, "demo train")
    with Prewarmed() as warm:
        warmed = smoke_train(project, "demo train", warm)
        assert warm.process.poll() is not None  # it ran the module and exited
    assert warmed.losses == fresh.losses
    assert warmed.metrics == fresh.metrics
    assert "Epoch 3/3" in (project / "runs" / "smoke" / "train.log").read_text()


def test_an_unused_or_dead_prewarm_is_harmless(render_project, tmp_path: Path) -> None:
    from kgen.smoke import Prewarmed, smoke_train

    with Prewarmed() as unused:
        pass
    assert unused.process.poll() is not None  # stopped on the way out
    dead = Prewarmed()
    dead.stop()
    project = private_copy(render_project("multi-input"), tmp_path)
    report = smoke_train(project, "demo train", dead)
    assert len(report.losses) == 3  # ran in a fresh process instead
