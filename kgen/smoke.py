"""Smoke-train a generated project: a few quick epochs in a subprocess."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from kgen.errors import SmokeTrainError

# Above this many parameters kgen asks before smoke-training (skips it with --yes):
# float32 weights, their gradients and Adam's two moments take 16 bytes a parameter,
# about 0.8 GB here, and a CPU takes minutes per step.
SMOKE_PARAMETERS = 50_000_000
EPOCHS = 3
# A whole number of the generated train.py's compiled calls on every backend (its
# steps_per_execution: 16 on TensorFlow, 64 on JAX, 1 on torch).
STEPS_PER_EPOCH = 64
# The package each Keras backend needs, by the name KERAS_BACKEND gives it.
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
# Keep TensorFlow's start-up chatter out of the log; errors still get through.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


# A Python process that imports Keras, then waits for the module to run. kgen starts
# it before rendering, so TensorFlow's slow start-up overlaps the render.
PRELUDE = """
import json, os, runpy, sys
try:
    import keras  # noqa: F401  (the slow part)
except Exception:
    sys.exit(3)
request = json.loads(sys.stdin.readline() or "null")
if request is None:
    sys.exit(0)
log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.dup2(log, 1)
os.dup2(log, 2)
os.chdir(request["cwd"])
sys.path.insert(0, request["cwd"])
sys.argv = [request["module"], *request["args"]]
runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
"""


class Prewarmed:
    """A Python process importing Keras in the background, to run the smoke step.

    Use it as a context manager around the render: it is handed to `smoke_train`,
    or stopped on the way out if it was not used.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PRELUDE],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **QUIET_ENV},
            text=True,
        )

    def __enter__(self) -> Prewarmed:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def run(self, project: Path, module: str, args: list[str], log: Path) -> int | None:
        """Run `python -m MODULE ARGS` in `project`; None if the process is gone.

        MODULE may be a package: its `__main__` module runs, as with `python -m`.
        """
        if self.process.poll() is not None or self.process.stdin is None:
            return None
        request = {"cwd": str(project), "module": module, "args": args, "log": str(log)}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.close()
        except OSError:  # it died meanwhile (e.g. Keras failed to import)
            return None
        code = self.process.wait()
        return None if code == 3 and not log.exists() else code  # Keras missing

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def keras_backend() -> str:
    """The backend Keras will run on: KERAS_BACKEND, TensorFlow when it is unset."""
    return os.environ.get("KERAS_BACKEND") or "tensorflow"


def missing_backend() -> str | None:
    """Why this environment cannot smoke-train, without importing Keras; or None."""
    backend = keras_backend()
    if backend not in BACKEND_PACKAGES:
        return (
            f"KERAS_BACKEND={backend} is not a backend kgen can smoke-train on; "
            f"set it to one of {', '.join(BACKEND_PACKAGES)}, or pass --no-smoke"
        )
    needed = ["keras", BACKEND_PACKAGES[backend]]
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"cannot smoke-train on the {backend} backend (KERAS_BACKEND): "
        f"{' and '.join(missing)} not installed; "
        f"pip install 'kgen[{backend_extra()}]', set KERAS_BACKEND to an installed "
        "backend, or pass --no-smoke"
    )


def backend_extra() -> str:
    """The extra (of kgen and of generated projects) that installs this backend."""
    backend = keras_backend()
    return backend if backend in BACKEND_PACKAGES else "tensorflow"


@dataclasses.dataclass(frozen=True)
class SmokeReport:
    """What a smoke-training run did."""

    losses: list[float]
    steps_per_epoch: int
    metrics: dict[str, float]
    seconds: float
    output_dir: Path

    @property
    def summary(self) -> str:
        first, last = self.losses[0], self.losses[-1]
        epochs = len(self.losses)
        scores = ", ".join(
            f"{name} {value:.3f}"
            for name, value in self.metrics.items()
            if name != "loss"
        )
        return (
            f"loss {first:.4f} → {last:.4f} over {epochs} epochs of "
            f"{self.steps_per_epoch} steps in {self.seconds:.1f} s"
            + (f"; test {scores}" if scores else "")
        )


def train_command(command: str) -> tuple[str, list[str]]:
    """The module and leading arguments of a template's `_kgen_smoke` command.

    `"PKG train"` (a module, then arguments) runs as `python -m PKG train`, PKG's
    `__main__.py` with the command `train`; older templates name a module alone,
    `"PKG.train"`, which runs as `python -m PKG.train`.
    """
    try:
        module, *lead = shlex.split(str(command))
    except ValueError:  # nothing in it, or an unclosed quote
        raise SmokeTrainError(
            f"the template's _kgen_smoke {command!r} is not MODULE [ARGUMENTS]; "
            'write it as e.g. "{{ package_name }} train"'
        ) from None
    return module, lead


def by_hand(command: str) -> str:
    """The shell command that trains as `_kgen_smoke` says: `python -m PKG train`."""
    module, lead = train_command(command)
    return shlex.join(["python", "-m", module, *lead])


def smoke_train(
    project: Path, command: str, warm: Prewarmed | None = None
) -> SmokeReport:
    """Run the template's train command briefly inside `project`; read its results.

    COMMAND is what a template declares as `_kgen_smoke` in its copier.yml: a module
    and its leading arguments, `"PKG train"`, run as `python -m PKG train` (or, from
    older templates, a module alone: `"PKG.train"`). kgen adds `--epochs`,
    `--steps-per-epoch` and `--output-dir`; the run must write `history.csv` (with a
    `loss` column, one row per epoch) and `metrics.json` there, as the built-in
    template's train command does. The run's outputs and its full log go to
    `project/runs/smoke/`. `warm`, a process that has already imported Keras, runs
    it when given and alive.
    """
    module, lead = train_command(command)
    problem = missing_backend()
    if problem is not None:
        raise SmokeTrainError(problem)
    output_dir = project / "runs" / "smoke"
    output_dir.mkdir(parents=True, exist_ok=True)
    log = output_dir / "train.log"
    args = [
        *lead,
        "--epochs",
        str(EPOCHS),
        "--steps-per-epoch",
        str(STEPS_PER_EPOCH),
        "--output-dir",
        str(output_dir),
    ]
    start = time.perf_counter()
    returncode = warm.run(project, module, args, log) if warm is not None else None
    if returncode is None:
        with log.open("w", encoding="utf-8") as stream:
            returncode = subprocess.run(
                [sys.executable, "-m", module, *args],
                cwd=project,
                stdout=stream,
                stderr=subprocess.STDOUT,
                env={**os.environ, **QUIET_ENV},
                check=False,
            ).returncode
    seconds = time.perf_counter() - start
    if returncode != 0:
        raise SmokeTrainError(
            f"smoke-training failed with exit code {returncode}", str(log)
        )
    try:
        with (output_dir / "history.csv").open(newline="", encoding="utf-8") as rows:
            losses = [float(row["loss"]) for row in csv.DictReader(rows)]
        metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, KeyError, ValueError) as error:
        raise SmokeTrainError(
            f"smoke-training finished but its results are unreadable ({error})",
            str(log),
        ) from None
    if not losses:
        raise SmokeTrainError("smoke-training recorded no epoch", str(log))
    return SmokeReport(losses, STEPS_PER_EPOCH, metrics, seconds, output_dir)
