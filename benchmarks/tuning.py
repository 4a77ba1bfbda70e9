"""A hyperparameter search against the generated defaults, on real data.

    pip install -e ".[bench]"
    python benchmarks/tuning.py [--trials 20] [--patterns parallel multi-input]

For each pattern a real dataset that ships inside scikit-learn (no download) is split
once, 80/20 and stratified, into a train and a test file (as benchmarks/real_data.py
does). The gallery project then trains with its defaults, runs `tune` for `--trials`
trials (Bayesian optimization; each trial's validation split is taken from the train
file, as in `train`), and trains again with the best trial's `best.toml`. Both runs
score the same test file, which no trial is chosen on. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from real_data import cancer_by_input, write_split
from sklearn.datasets import load_digits

GALLERY = Path(__file__).resolve().parent.parent / "generated_examples"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def datasets(pattern: str, folder: Path) -> tuple[str, Path, Path]:
    """The name, train file and test file of the pattern's dataset."""
    if pattern == "parallel":
        frame = load_digits(as_frame=True).frame.rename(columns={"target": "digit"})
        train, test = write_split(frame, "digit", folder, "digits", ".csv")
        return "digits (64 pixels, 10 classes)", train, test
    if pattern == "multi-input":
        train, test = write_split(
            cancer_by_input(), "diagnosis", folder, "cancer", ".csv"
        )
        return "breast cancer (3 inputs of 10)", train, test
    raise ValueError(pattern)


def columns(pattern: str) -> list[str]:
    return {
        "parallel": ["--columns", "label=digit"],
        "multi-input": ["--columns", "label=diagnosis"],
    }[pattern]


def run(pattern: str, command: str, *flags: str) -> None:
    package = pattern.replace("-", "_")
    done = subprocess.run(
        [sys.executable, "-m", package, command, *flags],
        cwd=GALLERY / pattern,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(
            f"{package} {command} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )


def best_val_loss(run: Path) -> float:
    """The validation loss of the epoch a run keeps (its lowest)."""
    with open(run / "history.csv", newline="") as file:
        return min(float(row["val_loss"]) for row in csv.DictReader(file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--patterns", nargs="+", default=["parallel", "multi-input"])
    args = parser.parse_args()
    print(
        "| pattern | data | defaults: test accuracy | best of the search: test "
        "accuracy | validation loss: defaults, best | search: trials, minutes | "
        "best trial's settings |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for pattern in args.patterns:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            name, train_file, test_file = datasets(pattern, folder)
            data = ["--data", str(train_file), "--test-data", str(test_file)]
            data += columns(pattern)
            run(pattern, "train", *data, "--output-dir", str(folder / "defaults"))
            started = time.monotonic()
            run(
                pattern,
                "tune",
                *data,
                "--max-trials",
                str(args.trials),
                "--tuning-dir",
                str(folder / "tuning"),
            )
            minutes = (time.monotonic() - started) / 60
            best = folder / "tuning" / "search" / "best.toml"
            run(
                pattern,
                "train",
                "--config",
                str(best),
                "--output-dir",
                str(folder / "best"),
            )
            scores = [
                json.loads((folder / part / "metrics.json").read_text())["accuracy"]
                for part in ("defaults", "best")
            ]
            settings = [
                line
                for line in best.read_text().splitlines()
                if "=" in line and not line.startswith(("#", "data_path", "test_path"))
            ]
            print(
                f"| {pattern} | {name} | {scores[0]:.4f} | {scores[1]:.4f} | "
                f"{best_val_loss(folder / 'defaults'):.4f}, "
                f"{best_val_loss(folder / 'best'):.4f} | "
                f"{args.trials}, {minutes:.1f} | {'; '.join(settings)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
