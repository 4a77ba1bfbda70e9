"""Smoke-train a generated project: a few quick epochs in a subprocess."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kgen.errors import SmokeTrainError

EPOCHS = 3
STEPS_PER_EPOCH = 20
# Keep TensorFlow's start-up chatter out of the log; errors still get through.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


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


def smoke_train(project: Path, module: str) -> SmokeReport:
    """Run `python -m MODULE` briefly inside `project` and read its results.

    MODULE is the train command a template declares as `_kgen_smoke` in its
    copier.yml. kgen runs it with `--epochs`, `--steps-per-epoch` and `--output-dir`;
    it must write `history.csv` (with a `loss` column, one row per epoch) and
    `metrics.json` there, as the built-in template's train.py does. The run's outputs
    and its full log go to `project/runs/smoke/`.
    """
    output_dir = project / "runs" / "smoke"
    output_dir.mkdir(parents=True, exist_ok=True)
    log = output_dir / "train.log"
    command = [
        sys.executable,
        "-m",
        module,
        "--epochs",
        str(EPOCHS),
        "--steps-per-epoch",
        str(STEPS_PER_EPOCH),
        "--output-dir",
        str(output_dir),
    ]
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as stream:
        result = subprocess.run(
            command,
            cwd=project,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env={**os.environ, **QUIET_ENV},
            check=False,
        )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SmokeTrainError(
            f"smoke-training failed with exit code {result.returncode}", str(log)
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
