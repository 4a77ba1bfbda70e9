"""Speed of a generated project's own `train` command, on each backend.

    python benchmarks/train_command.py                     # siamese and parallel
    python benchmarks/train_command.py --epochs 6 --repeats 3
    python benchmarks/train_command.py --baseline HEAD     # the committed template too

`benchmarks/throughput.py` times `fit` alone; this times what a user runs:

    python -m PKG train --steps-per-epoch 1024 --epochs N --patience 1000 --output-dir D

on the project's built-in data, with everything the command does around `fit`
(validation after every epoch, ModelCheckpoint, CSVLogger, TensorBoard logs on
TensorFlow, the test evaluation, plots). Each run is a fresh process; for each
project and backend the command runs for 1 epoch and for K epochs, alternately,
`--repeats` times, and the table gives medians:

- steady samples/s = (K - 1) * 1024 * batch size / (t_K - t_1): an epoch as the
  command runs it, per-epoch work included;
- in-epoch samples/s: the training steps alone (from an epoch's start to its
  validation), epochs 2..K;
- per-epoch overhead: from an epoch's validation to its end after every callback
  (validation, checkpoint, CSV and TensorBoard logs), and its share of the epoch;
- start-up: the process's start to its first training step, in parts: Python and
  `import keras` (TensorFlow or JAX with it), importing the project, `load_splits`,
  building (and adapting) the model, `fit`'s set-up and first compiled call;
- x limit: against the hand-written JAX loop (`loops/jax_reference.py`, the default
  siamese network written in JAX, measured in the same run): the speed limit of
  this machine for a model of this size.

`--baseline REF` renders the template of git revision REF as well and runs it side
by side (alternating with the working tree's) for before/after ratios.

The timings come from a small wrapper (`--inside`) that runs `python -m PKG train`
unchanged, with a callback appended to `fit`'s that records timestamps only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPS = Path(__file__).resolve().parent / "loops"
BACKENDS = ("tensorflow", "jax", "torch")
STEPS = 1024


# --- inside the measured process -------------------------------------------------


def inside(package: str, argv: list[str], events_path: str) -> None:
    """Run `python -m PACKAGE train ARGV` and write its timestamps to events_path."""
    events = {"spawn": float(os.environ["TRAIN_COMMAND_SPAWN"]), "python": time.time()}
    epochs: list[dict] = []

    def save() -> None:
        events["end"] = time.time()
        events["epochs"] = epochs
        Path(events_path).write_text(json.dumps(events))

    import atexit

    atexit.register(save)
    # The package first: its __init__ may set environment variables that TensorFlow
    # reads when it is imported.
    __import__(package)
    import keras

    events["keras"] = time.time()
    train = __import__(f"{package}.train", fromlist=["train"])
    events["project"] = time.time()

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.time()
            result = function(*args, **kwargs)
            events[name] = events.get(name, 0.0) + time.time() - start
            return result

        return wrapper

    for name in ("load_splits", "build_model", "adapt", "compile_model"):
        if hasattr(train, name):
            setattr(train, name, timed(name, getattr(train, name)))

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.setdefault("fit", time.time())

        def on_epoch_begin(self, epoch, logs=None):
            epochs.append({"begin": time.time()})

        # A batch-end hook would make Keras wait for every compiled call's logs (it
        # then runs callbacks in step, not ahead): the start of the second call marks
        # the end of the first one, the compiled one, as far as Python can see.
        def on_train_batch_begin(self, batch, logs=None):
            if batch > 0:
                events.setdefault("first_step", time.time())

        def on_test_begin(self, logs=None):
            if epochs and "validation" not in epochs[-1]:
                epochs[-1]["validation"] = time.time()

        def on_epoch_end(self, epoch, logs=None):
            epochs[-1]["end"] = time.time()

    fit = keras.Model.fit

    def fit_with_clock(self, *args, callbacks=None, **kwargs):
        # Last: its on_epoch_end runs after the project's callbacks.
        return fit(self, *args, callbacks=[*(callbacks or []), Clock()], **kwargs)

    keras.Model.fit = fit_with_clock
    sys.argv = [f"python -m {package}", "train", *argv]
    __import__(f"{package}.__main__", fromlist=["main"]).main()


# --- the driver ------------------------------------------------------------------


def render_project(pattern: str, dest: Path, template: Path | None) -> Path:
    """The default `pattern` project, from `template` (default: kgen's own)."""
    from kgen.generate import render
    from kgen.questions import Questionnaire
    from kgen.template import builtin_source

    source = builtin_source()
    local = template or source.local
    answers = Questionnaire.of(local).resolve(
        {"pattern": pattern, "project_name": pattern}
    )
    return render(str(local), dest, answers)


def export_template(ref: str, scratch: Path) -> Path:
    """The built-in template as git revision `ref` has it, in `scratch`."""
    archive = subprocess.run(
        ["git", "archive", ref, "templates/keras"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    scratch.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
    return scratch / "templates" / "keras"


def environment(backend: str, project: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(project),
    }


def run_train(
    python: str,
    backend: str,
    project: Path,
    epochs: int,
    scratch: Path,
    flags: list[str],
    steps: int = STEPS,
) -> dict:
    """One `train` run of `epochs` epochs: its wall time and its timestamps."""
    package = project.name
    output_dir = Path(tempfile.mkdtemp(dir=scratch))
    events_path = output_dir.with_suffix(".json")
    argv = [
        "--steps-per-epoch",
        str(steps),
        "--epochs",
        str(epochs),
        "--patience",
        "1000",
        "--output-dir",
        str(output_dir / "run"),
        *flags,
    ]
    env = environment(backend, project)
    env["TRAIN_COMMAND_SPAWN"] = repr(time.time())
    start = time.perf_counter()
    result = subprocess.run(
        [python, __file__, "--inside", package, str(events_path), "--", *argv],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"train on {backend} failed:\n{result.stderr[-3000:]}")
    events = json.loads(events_path.read_text())
    events["wall"] = wall
    return events


def jax_limit(python: str, project: Path, batch_size: int) -> float:
    """Samples/s of the hand-written JAX loop on the default siamese network."""
    result = subprocess.run(
        [python, str(LOOPS / "jax_reference.py"), project.name, "4", "0", "65536"]
        + [str(batch_size)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=environment("jax", project),
    )
    if result.returncode != 0:
        raise SystemExit(f"jax_reference.py failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["samples_per_s"]


def batch_size_of(python: str, backend: str, project: Path) -> int:
    code = (
        f"from {project.name}.config import TrainConfig; "
        "print(TrainConfig().batch_size)"
    )
    return int(
        subprocess.run(
            [python, "-c", code],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
            env=environment(backend, project),
        ).stdout.strip()
    )


def summarize(
    short: list[dict], long: list[dict], epochs: int, batch: int, steps: int = STEPS
) -> dict:
    """Medians over the repeats of one project, backend and template."""
    median = statistics.median
    samples = (epochs - 1) * steps * batch
    # Epochs 2..K of the long runs, end to end: the wall-clock difference of the
    # runs (t_K - t_1) says the same but carries the noise of two start-ups.
    steady = median(
        samples / (run["epochs"][-1]["end"] - run["epochs"][0]["end"]) for run in long
    )
    by_wall = median(
        samples / (b["wall"] - a["wall"]) for a, b in zip(short, long, strict=True)
    )
    later = [epoch for run in long for epoch in run["epochs"][1:]]
    training = median(epoch["validation"] - epoch["begin"] for epoch in later)
    overhead = median(epoch["end"] - epoch["validation"] for epoch in later)
    # Anything between one epoch's end and the next one's start counts as overhead.
    overhead += median(
        b["begin"] - a["end"]
        for run in long
        for a, b in zip(run["epochs"], run["epochs"][1:], strict=False)
    )
    first = short  # the 1-epoch runs: start-up parts
    parts = {
        "python": median(r["python"] - r["spawn"] for r in first),
        "import keras": median(r["keras"] - r["python"] for r in first),
        "import project": median(r["project"] - r["keras"] for r in first),
        "load_splits": median(r.get("load_splits", 0.0) for r in first),
        "build+adapt": median(
            r.get("build_model", 0.0) + r.get("adapt", 0.0) for r in first
        ),
        "fit set-up+1st call": median(r["first_step"] - r["fit"] for r in first),
    }
    return {
        "steady": steady,
        "by_wall": by_wall,
        "in_epoch": steps * batch / training,
        "overhead": overhead,
        "overhead_share": overhead / (training + overhead),
        "to_first_step": median(r["first_step"] - r["spawn"] for r in first),
        "after_fit": median(r["end"] - r["epochs"][-1]["end"] for r in first),
        "exit": median(r["wall"] - (r["end"] - r["spawn"]) for r in first),
        "one_epoch_wall": median(r["wall"] for r in first),
        "parts": parts,
    }


def table(results: dict, limit: float | None) -> str:
    lines = [
        "| project | backend | template | steady samples/s | x limit | by t_K - t_1 "
        "| in-epoch samples/s | overhead s/epoch (share) | to 1st step s "
        "| 1-epoch run s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (pattern, backend, template), row in results.items():
        to_limit = f"{row['steady'] / limit:.2f}" if limit else "-"
        lines.append(
            f"| {pattern} | {backend} | {template} | {row['steady']:,.0f} | "
            f"{to_limit} | {row['by_wall']:,.0f} | {row['in_epoch']:,.0f} | "
            f"{row['overhead']:.3f} "
            f"({row['overhead_share']:.0%}) | {row['to_first_step']:.1f} | "
            f"{row['one_epoch_wall']:.1f} |"
        )
    lines += ["", "Start-up, seconds (1-epoch runs, medians):", ""]
    names = list(next(iter(results.values()))["parts"])
    lines.append(
        "| project | backend | template | "
        + " | ".join(names)
        + " | after fit | exit |"
    )
    lines.append("| --- " * (len(names) + 5) + "|")
    for (pattern, backend, template), row in results.items():
        parts = " | ".join(f"{row['parts'][name]:.2f}" for name in names)
        lines.append(
            f"| {pattern} | {backend} | {template} | {parts} | "
            f"{row['after_fit']:.2f} | {row['exit']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--inside"]:
        package, events_path = sys.argv[2], sys.argv[3]
        inside(package, sys.argv[5:], events_path)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", default="siamese,parallel")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--epochs", type=int, default=6, help="K, the long run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per epoch")
    parser.add_argument("--baseline", metavar="REF", help="also the template at REF")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=FLAGS",
        help="also the working tree's projects with these train flags (repeatable), "
        "e.g. spe64='--steps-per-execution 64'",
    )
    args = parser.parse_args()
    python = sys.executable
    backends = [
        name
        for name in args.backends.split(",")
        if importlib.util.find_spec(name) is not None
    ]
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        templates: dict[str, Path | None] = {"new": None}
        if args.baseline:
            templates = {
                args.baseline: export_template(args.baseline, scratch / "base"),
                "new": None,
            }
        projects = {
            (pattern, label): render_project(
                pattern,
                scratch / label.replace("/", "_") / pattern.replace("-", "_"),
                template,
            )
            for pattern in args.patterns.split(",")
            for label, template in templates.items()
        }
        flags = {label: [] for label in templates}
        for variant in args.variant:
            label, _, line = variant.partition("=")
            flags[label] = line.split()
            for pattern in args.patterns.split(","):
                projects[pattern, label] = projects[pattern, "new"]
        projects = dict(sorted(projects.items()))
        limit = None
        if "jax" in backends:
            siamese = next(
                (p for (pattern, _), p in projects.items() if pattern == "siamese"),
                None,
            ) or render_project("siamese", scratch / "limit" / "siamese", None)
            limit = jax_limit(python, siamese, 64)
            print(f"hand-written JAX limit: {limit:,.0f} samples/s", flush=True)
        runs: dict[tuple, tuple[list, list]] = {}
        for repeat in range(args.repeats):
            for (pattern, label), project in projects.items():
                for backend in backends:
                    short, long = runs.setdefault((pattern, backend, label), ([], []))
                    # Alternate which run goes first, against drifts in load.
                    order = [1, args.epochs] if repeat % 2 == 0 else [args.epochs, 1]
                    for epochs in order:
                        events = run_train(
                            python,
                            backend,
                            project,
                            epochs,
                            scratch,
                            flags[label],
                            args.steps,
                        )
                        (short if epochs == 1 else long).append(events)
                        print(
                            f"{pattern} {backend} {label} {epochs} epochs: "
                            f"{events['wall']:.1f} s",
                            flush=True,
                        )
        batch = batch_size_of(python, backends[0], next(iter(projects.values())))
        results = {
            key: summarize(short, long, args.epochs, batch, args.steps)
            for key, (short, long) in sorted(runs.items())
        }
    print()
    print(table(results, limit))
    if limit:
        print(f"\nlimit: hand-written JAX, default siamese: {limit:,.0f} samples/s")


if __name__ == "__main__":
    main()
