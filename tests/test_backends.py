"""The other backends, for real: the generated projects train and pass their own tests
on JAX and torch, in virtualenvs without TensorFlow (tests/test_end_to_end.py runs
them on TensorFlow).

The JAX and torch environments hold only what a generated project installs (Keras,
numpy, pyarrow, matplotlib, the backend) plus pytest; `import tensorflow` fails in
them. They are built once and kept in `.test-envs/` (keyed by what they install), so
later runs reuse them. The gallery projects train on both and run their suites: the
full suite on JAX, the quick tests (`-m "not slow"`: not the file formats, which
numpy and pyarrow read the same way on every backend) on torch; variants with
custom layers and output transforms run their quick tests on both. Those are the
`extended` tier (`pytest -n auto -m extended`, which CI runs after the default
tier); the default tier smoke-trains on JAX through kgen itself.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import PATTERNS, ROOT, kgen, private_copy

pytestmark = pytest.mark.slow

ENVS = ROOT / ".test-envs"
# What each backend's environment installs. This machine kind carries torch 2.13.0's
# CPU wheel locally (PIP_FIND_LINKS); elsewhere point KGEN_TEST_TORCH at a CPU build
# (PyPI's torch for Linux bundles CUDA, several GB).
REQUIREMENTS = {
    "jax": [
        "keras>=3.10",
        "keras-tuner[bayesian]>=1.4.7",
        "matplotlib>=3.8",
        "numpy>=1.26",
        "pyarrow>=14",
        "pytest>=8",
        "six>=1.16",  # keras-tuner imports it without requiring it
        "tomli-w>=1.0",
        "jax>=0.4.30",
    ],
    "torch": [
        "keras>=3.10",
        "keras-tuner[bayesian]>=1.4.7",
        "matplotlib>=3.8",
        "numpy>=1.26",
        "pyarrow>=14",
        "pytest>=8",
        "six>=1.16",  # keras-tuner imports it without requiring it
        "tomli-w>=1.0",
        os.environ.get("KGEN_TEST_TORCH", "torch==2.13.0"),
    ],
}
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str
    python: Path

    def run(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """`python ARGS` in `cwd` on this backend."""
        return subprocess.run(
            [str(self.python), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **QUIET, "KERAS_BACKEND": self.name},
        )


def environment_for(backend: str) -> Path:
    """The Python of a virtualenv with Keras on `backend` and without TensorFlow."""
    requirements = REQUIREMENTS[backend]
    key = hashlib.sha256(json.dumps([sys.version, requirements]).encode()).hexdigest()
    env = ENVS / f"{backend}-{key[:12]}"
    ENVS.mkdir(exist_ok=True)
    with (ENVS / f"{backend}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the pytest-xdist workers build it once
        if not (env / "complete").exists():
            shutil.rmtree(env, ignore_errors=True)
            venv.create(env, with_pip=True)
            pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run(pip + requirements, check=True, capture_output=True)
            (env / "complete").touch()
    return env / "bin" / "python"


@pytest.fixture(scope="session", params=list(REQUIREMENTS))
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend's environment, checked to be what it claims."""
    name = request.param
    backend = Backend(name, environment_for(name))
    probe = backend.run(ROOT, "-c", "import keras; print(keras.backend.backend())")
    assert probe.stdout.split() == [name], probe.stdout + probe.stderr
    blocked = backend.run(ROOT, "-c", "import tensorflow")
    assert blocked.returncode != 0, f"TensorFlow is importable on {name}"
    return backend


@pytest.mark.extended
@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_gallery_project_trains_and_passes_its_suite(
    backend: Backend, pattern: str, tmp_path: Path
) -> None:
    project = private_copy(ROOT / "generated_examples" / pattern, tmp_path)
    package = pattern.replace("-", "_")
    trained = backend.run(
        project,
        "-m",
        package,
        "train",
        "--epochs",
        "2",
        "--steps-per-epoch",
        "32",
        "--output-dir",
        "runs/check",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((project / "runs" / "check" / "metrics.json").read_text())
    assert metrics and all(math.isfinite(value) for value in metrics.values())
    assert not (project / "runs" / "check" / "logs").is_dir()  # TensorBoard: TF only
    assert "Curves: runs/check/history.csv" in trained.stdout
    quick = ["-m", "not slow"] if backend.name == "torch" else []
    suite = backend.run(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", *quick)
    assert suite.returncode == 0, suite.stdout[-3000:]
    assert " passed" in suite.stdout and "skipped" not in suite.stdout, suite.stdout


VARIANTS = [
    # Mixed precision in-process; JAX's strategies in processes of their own.
    ("siamese", "--scale-out"),
    ("siamese", "--distance", "cosine", "--output-transform", "scale_shift"),
    ("parallel", "--branches", "3", "--branch-outputs", "--merge", "weighted_average"),
    ("parallel", "--shared-weights", "--merge", "subtract"),
    # Transforms apply to regression outputs: class probabilities pass through.
    ("multi-output", "--output-transform", "clip"),
    ("siamese", "--output-transform", "log"),
]


# On TensorFlow, test_end_to_end and the covering array run such variants.
@pytest.mark.extended
@pytest.mark.parametrize("flags", VARIANTS, ids="-".join)
def test_variants_pass_their_quick_tests(
    backend: Backend, render_project, flags: tuple[str, ...], tmp_path: Path
) -> None:
    project = private_copy(render_project(*flags), tmp_path)
    quick = [
        str(path.relative_to(project))
        for path in (project / "tests").glob("test_*.py")
        if path.name != "test_training.py"
    ]
    suite = backend.run(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", *quick)
    assert suite.returncode == 0, suite.stdout[-3000:]


def test_kgen_smoke_trains_on_the_backend_of_keras_backend(tmp_path: Path) -> None:
    # TensorFlow is blocked: the JAX run of the project must not import it.
    blocker = tmp_path / "blocker" / "tensorflow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked by the test')\n")
    env = {"KERAS_BACKEND": "jax", "PYTHONPATH": str(blocker.parent)}
    result = kgen("new", "siamese", str(tmp_path / "demo"), "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "Smoke-trained" in result.stderr
    log = (tmp_path / "demo" / "runs" / "smoke" / "train.log").read_text()
    assert "no TensorBoard logs (they need the TensorFlow backend" in log
    assert 'pip install -e ".[jax,dev]"' in result.stdout


def test_a_missing_backend_is_one_line_before_anything_is_written(
    tmp_path: Path,
) -> None:
    missing = [
        name for name in ("torch", "jax") if importlib.util.find_spec(name) is None
    ]
    if not missing:
        pytest.skip("every backend is installed here")
    env = {"KERAS_BACKEND": missing[0]}
    result = kgen("new", "siamese", str(tmp_path / "demo"), "--yes", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"pip install 'kgen[{missing[0]}]'" in result.stderr
    assert not (tmp_path / "demo").exists()
