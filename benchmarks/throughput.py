"""Training throughput of a generated project on each backend, against the limit.

    python benchmarks/throughput.py                      # siamese and parallel
    python benchmarks/throughput.py --patterns siamese --epochs 5
    python benchmarks/throughput.py --patterns all --epochs 10

Every run trains the same generated model (`build_model`, `compile_model`: same loss,
optimizer and learning rate) on the same data (siamese and parallel: 65,536
synthetic examples; other patterns: their built-in data; split 80/10/10) at batch
size 64, each in a fresh process, and reports steady-state samples per second (the
first epoch, which traces and compiles, left out) and the test loss:

- `tensorflow`, `jax`, `torch`: the project's own loop, as `train.py` runs it
  (`tools/batches.py`: `tf.data` on TensorFlow, `ArrayBatches` on JAX and torch;
  siamese, `tools/pairs.py`: pairs drawn in `tf.data` on TensorFlow, `PairBatches` on
  JAX and torch; the backend's default steps per compiled call from `config.py`);
- `seed style`: what the seed articles do, `model.fit` on numpy arrays, one batch per
  call, on TensorFlow;
- `hand-written JAX` (siamese only): the same network, loss and Adam written in JAX,
  an epoch as one `jit`-compiled `lax.scan`: the limit for this model on this CPU.

Each backend runs in its own Python: `--python BACKEND=PATH` (default: this Python
for every backend it has, else the environments tests/test_backends.py builds in
.test-envs/). Ratios are printed against the hand-written limit and against
TensorFlow.

This times `fit` alone; `benchmarks/train_command.py` times the `train` command as a
user runs it (validation, checkpoints and logs every epoch, start-up).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BACKENDS = ("tensorflow", "jax", "torch")
EXAMPLES = 65_536
# Patterns measured on EXAMPLES synthetic examples; the others on their built-in data.
SYNTHETIC = ("siamese", "parallel")
BATCH_SIZE = 64

LOOPS = Path(__file__).resolve().parent / "loops"


def default_pythons() -> dict[str, str]:
    """This Python for each backend it has; else the environments the tests build."""
    pythons = {}
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is not None:
            pythons[backend] = sys.executable
            continue
        built = sorted(
            (ROOT / ".test-envs").glob(f"{backend}-*/bin/python"),
            key=lambda python: python.stat().st_mtime,  # the newest build
        )
        if built:
            pythons[backend] = str(built[-1])
    return pythons


def measure(python: str, backend: str, project: Path, loop: str, *args: str) -> dict:
    """Run `loops/LOOP` in `project` with `python` on `backend`; its JSON result."""
    result = subprocess.run(
        [python, str(LOOPS / loop), "bench", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(project),
        },
    )
    if result.returncode != 0:
        raise SystemExit(f"{loop} on {backend} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(
    patterns: list[str], pythons: dict[str, str], epochs: int, seed: int
) -> dict[str, dict[str, dict]]:
    """{pattern: {run: measurement}} for every backend in `pythons`."""
    from kgen.generate import render
    from kgen.questions import Questionnaire
    from kgen.template import builtin_source

    source = builtin_source()
    questionnaire = Questionnaire.of(source.local)
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for pattern in patterns:
            answers = questionnaire.resolve(
                {"pattern": pattern, "project_name": "bench"}
            )
            project = render(source.url, Path(scratch) / pattern, answers)
            examples = EXAMPLES if pattern in SYNTHETIC else 0  # 0: built-in data
            sizes = [str(epochs), str(seed), str(examples), str(BATCH_SIZE)]
            runs = results.setdefault(pattern, {})
            if pattern == "siamese" and "jax" in pythons:
                runs["hand-written JAX"] = measure(
                    pythons["jax"], "jax", project, "jax_reference.py", *sizes
                )
            for backend, python in pythons.items():
                runs[backend] = measure(
                    python, backend, project, "keras_loop.py", "generated", *sizes
                )
            if "tensorflow" in pythons:
                runs["seed style"] = measure(
                    pythons["tensorflow"],
                    "tensorflow",
                    project,
                    "keras_loop.py",
                    "seed",
                    *sizes,
                )
    return results


def table(results: dict[str, dict[str, dict]]) -> str:
    """A Markdown table: samples/s, ratios to the limit and to TensorFlow, test loss."""
    lines = [
        "| pattern | run | steps per call | samples/s | x hand-written JAX "
        "| x TensorFlow | test loss |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pattern, runs in results.items():
        limit = runs.get("hand-written JAX", {}).get("samples_per_s")
        tensorflow = runs.get("tensorflow", {}).get("samples_per_s")
        for name, run in runs.items():
            speed = run["samples_per_s"]
            to_limit = f"{speed / limit:.2f}" if limit else "-"
            to_tf = f"{speed / tensorflow:.2f}" if tensorflow else "-"
            steps = run.get("steps_per_execution", "-")
            if name == "seed style":
                steps = 1
            lines.append(
                f"| {pattern} | {name} | {steps} | {speed:,.0f} | {to_limit} | "
                f"{to_tf} | {run['test_loss']:.4f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", default="siamese,parallel")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="the Python to run BACKEND with (repeatable)",
    )
    args = parser.parse_args()
    pythons = default_pythons()
    for choice in args.python:
        backend, _, path = choice.partition("=")
        pythons[backend] = path
    missing = [backend for backend in BACKENDS if backend not in pythons]
    if missing:
        print(f"skipping {', '.join(missing)}: no Python with it (--python)")
    patterns = args.patterns.split(",")
    if patterns == ["all"]:
        from kgen.project import pattern_catalog
        from kgen.template import builtin_template

        patterns = list(pattern_catalog(builtin_template()))
    results = compare(patterns, pythons, args.epochs, args.seed)
    print(table(results))


if __name__ == "__main__":
    main()
