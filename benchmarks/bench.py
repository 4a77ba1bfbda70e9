"""kgen's speed, each time as a ratio to a baseline measured side by side.

    python benchmarks/bench.py            # all of it, about three minutes
    python benchmarks/bench.py --quick    # fewer repeats
    python benchmarks/bench.py --only help,render

Runs alternate between kgen and its baseline so that a noisy machine slows both
alike; each figure is the median of the repeats. Nothing here asserts a time:
the tests never do, and this only reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE = ROOT / "templates" / "keras"
PYTHON = sys.executable
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "NO_COLOR": "1"}

# The floor of any typer CLI with kgen's commands: the same app shape, no work.
BARE_TYPER = textwrap.dedent("""
    import typer

    app = typer.Typer(rich_markup_mode="rich", add_completion=False)

    @app.command()
    def new(pattern: str, dest: str = "", branches: int = 2) -> None:
        "Generate."

    @app.command()
    def patterns() -> None:
        "List."

    @app.command()
    def update(project: str = ".") -> None:
        "Update."

    @app.command()
    def check(project: str = ".") -> None:
        "Check."

    app()
    """)

# The floor of a smoke-train: import Keras on TensorFlow, build the same model,
# one training step on one batch.
ONE_STEP = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from {package}.config import ModelConfig, TrainConfig
    from {package}.data import load_splits
    from {package}.model import build_model, compile_model

    model = compile_model(build_model(ModelConfig()))
    _, (inputs, targets), _, _ = load_splits(TrainConfig())  # validation pairs
    model.train_on_batch(
        {{name: array[:64] for name, array in inputs.items()}}, targets[:64]
    )
    """)


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=QUIET, check=True, capture_output=True)
    return time.perf_counter() - start


def side_by_side(
    repeats: int, ours: Callable[[int], float], base: Callable[[int], float]
) -> tuple[float, float]:
    """Median seconds of `ours` and `base`, run alternately `repeats` times."""
    mine, theirs = [], []
    for index in range(repeats):
        mine.append(ours(index))
        theirs.append(base(index))
    return statistics.median(mine), statistics.median(theirs)


def report(name: str, ours: float, base: float, baseline: str, target: float) -> None:
    ratio = ours / base
    verdict = "met" if ratio <= target else "MISSED"
    print(
        f"{name:<34} {ours:7.3f} s  vs {baseline:<30} {base:7.3f} s  "
        f"ratio {ratio:4.2f} (target <= {target}: {verdict})"
    )


def bench_help(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        bare = Path(scratch) / "bare.py"
        bare.write_text(BARE_TYPER)
        for args, name in (
            (["--help"], "kgen --help"),
            (["patterns"], "kgen patterns"),
        ):
            ours, base = side_by_side(
                repeats,
                lambda _, args=args: timed([PYTHON, "-m", "kgen", *args]),
                lambda _: timed([PYTHON, str(bare), "--help"]),
            )
            # `kgen patterns` reads copier.yml (YAML), which --help does not.
            target = 1.2 if name == "kgen --help" else 1.5
            report(name, ours, base, "a bare typer app's --help", target)


def bench_render(repeats: int) -> None:
    """`kgen new -y --no-smoke` vs `copier copy --defaults --data-file` of the same
    template and the same complete answers (kgen's, written to a YAML file)."""
    import yaml

    from kgen.questions import Questionnaire

    answers = Questionnaire.of(TEMPLATE).resolve({"pattern": "siamese"})
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        data = work / "answers.yml"

        def copier_copy(index: int) -> float:
            data.write_text(yaml.safe_dump({**answers, "project_name": f"c{index}"}))
            return timed(
                [PYTHON, "-m", "copier", "copy", "-q", "--defaults"]
                + ["--data-file", str(data), str(TEMPLATE), f"c{index}"],
                cwd=work,
            )

        ours, base = side_by_side(
            repeats,
            lambda i: timed(
                [PYTHON, "-m", "kgen", "new", "siamese", f"k{i}", "-y", "--no-smoke"],
                cwd=work,
            ),
            copier_copy,
        )
        report(
            "kgen new siamese --no-smoke", ours, base, "copier copy (same answers)", 1.2
        )


def bench_smoke(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        timed(
            [PYTHON, "-m", "kgen", "new", "siamese", "floor", "-y", "--no-smoke"], work
        )
        script = work / "one_step.py"
        script.write_text(ONE_STEP.format(package="floor"))
        ours, base = side_by_side(
            repeats,
            lambda i: timed(
                [PYTHON, "-m", "kgen", "new", "siamese", f"s{i}", "-y"], cwd=work
            ),
            lambda _: timed([PYTHON, str(script), str(work / "floor")]),
        )
        report("kgen new siamese (smoke-train)", ours, base, "import+build+1 step", 1.3)


def bench_branches(repeats: int) -> None:
    from kgen.generate import render
    from kgen.questions import Questionnaire

    questionnaire = Questionnaire.of(TEMPLATE)
    counts = [1, 2, 4, 8, 16, 32]
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in counts:
            answers = questionnaire.resolve(
                {"pattern": "parallel", "project_name": "p", "branches": count}
            )
            runs = []
            for index in range(repeats):
                start = time.perf_counter()
                render(TEMPLATE, Path(scratch) / f"b{count}-{index}", answers)
                runs.append(time.perf_counter() - start)
            seconds.append(statistics.median(runs))
    slope, intercept = statistics.linear_regression(counts, seconds)
    fitted = [intercept + slope * count for count in counts]
    residual = max(abs(a - b) for a, b in zip(seconds, fitted, strict=True))
    print("render time vs branches (in-process render):")
    for count, value in zip(counts, seconds, strict=True):
        print(f"  {count:>2} branches  {value:6.3f} s")
    print(
        f"  linear fit: {intercept:.3f} s + {slope * 1000:.2f} ms per branch "
        f"(largest residual {residual * 1000:.1f} ms)"
    )


def bench_throughput() -> None:
    import throughput

    print("training throughput by backend, against a hand-written JAX loop:")
    results = throughput.compare(
        ["siamese", "parallel"], throughput.default_pythons(), epochs=4, seed=0
    )
    print(throughput.table(results))
    siamese = results["siamese"]
    if "hand-written JAX" in siamese:
        backends = [name for name in throughput.BACKENDS if name in siamese]
        fastest = max(backends, key=lambda name: siamese[name]["samples_per_s"])
        share = (
            siamese[fastest]["samples_per_s"]
            / siamese["hand-written JAX"]["samples_per_s"]
        )
        verdict = "met" if share >= 0.5 else "MISSED"
        print(
            f"  fastest backend {fastest}: {share:.2f}x the limit ({verdict}: >= 0.5)"
        )


BENCHES: dict[str, Callable[[int], None]] = {
    "help": bench_help,
    "render": bench_render,
    "smoke": lambda repeats: bench_smoke(max(3, repeats // 2)),
    "branches": bench_branches,
    "throughput": lambda _: bench_throughput(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, not 7")
    parser.add_argument(
        "--only",
        default=",".join(BENCHES),
        help=f"comma-separated, of: {', '.join(BENCHES)} (default: all)",
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {repeats}"
    )
    for name in args.only.split(","):
        BENCHES[name.strip()](repeats)


if __name__ == "__main__":
    main()
