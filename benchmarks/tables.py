"""Training from CSV and Parquet tables against the same data in `.npz`.

    python benchmarks/tables.py                     # 1,000,000 rows, TensorFlow
    python benchmarks/tables.py --rows 200000 --backend jax

Writes one table (32 float features and a 3-class label, learnable: the parallel
pattern's built-in task) as `.npz`, CSV and Parquet, renders the parallel project
with its defaults, and trains it on each file with `python -m PKG train`'s own
`load_splits` and loop (`loops/keras_loop.py`), each in a fresh process, alternating
formats over the repeats. Reports steady-state training samples per second (epoch 1
left out) and the seconds `load_splits` took to read and split the file, each as a
ratio to `.npz`. Issue 15's target: CSV and Parquet at 0.9x `.npz` or better.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BATCH_SIZE, default_pythons, measure  # noqa: E402

FORMATS = (".npz", ".csv", ".parquet")


def write_table(rows: int, folder: Path, seed: int = 0) -> dict[str, Path]:
    """The same learnable table in each format: columns x0..x31 and `label`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(3, size=rows)
    features = rng.normal(size=(3, 32))[labels] + rng.normal(size=(rows, 32))
    features = features.astype("float32")
    columns = {f"x{index}": column for index, column in enumerate(features.T)}
    columns["label"] = labels
    paths = {suffix: folder / f"table{suffix}" for suffix in FORMATS}
    np.savez(paths[".npz"], features=features, label=labels)
    table = pyarrow.table(columns)
    pyarrow.csv.write_csv(table, paths[".csv"])
    pyarrow.parquet.write_table(table, paths[".parquet"])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    python = default_pythons().get(args.backend)
    if python is None:
        raise SystemExit(f"no Python with {args.backend} (see throughput.py)")

    from kgen.generate import render
    from kgen.questions import Questionnaire
    from kgen.template import builtin_source

    source = builtin_source()
    answers = Questionnaire.of(source.local).resolve(
        {"pattern": "parallel", "project_name": "bench"}
    )
    runs: dict[str, list[dict]] = {suffix: [] for suffix in FORMATS}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        paths = write_table(args.rows, folder)
        sizes = {suffix: path.stat().st_size / 1e6 for suffix, path in paths.items()}
        project = render(source.url, folder / "parallel", answers)
        for _ in range(args.repeats):
            for suffix, path in paths.items():
                runs[suffix].append(
                    measure(
                        python,
                        args.backend,
                        project,
                        "keras_loop.py",
                        "generated",
                        str(args.epochs),
                        "0",
                        "0",  # 0 examples: the project's load_splits reads the file
                        str(BATCH_SIZE),
                        str(path),
                    )
                )
    speed = {s: statistics.median(r["samples_per_s"] for r in runs[s]) for s in runs}
    load = {s: statistics.median(r["load_seconds"] for r in runs[s]) for s in runs}
    print(
        f"{args.rows:,} rows, {args.backend}, batch {BATCH_SIZE}, median of "
        f"{args.repeats}\n"
    )
    print("| file | MB | load_splits s | x npz | samples/s | x npz |")
    print("| --- | --- | --- | --- | --- | --- |")
    for suffix in FORMATS:
        print(
            f"| {suffix} | {sizes[suffix]:,.0f} | {load[suffix]:.2f} | "
            f"{load[suffix] / load['.npz']:.2f} | {speed[suffix]:,.0f} | "
            f"{speed[suffix] / speed['.npz']:.2f} |"
        )
    worst = min(speed[".csv"], speed[".parquet"]) / speed[".npz"]
    print(f"\nslowest table format: {worst:.2f}x .npz training speed (target 0.9)")


if __name__ == "__main__":
    main()
