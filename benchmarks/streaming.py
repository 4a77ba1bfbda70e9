"""Data bigger than memory: peak memory and speed of a table pattern's train command
when it streams its data from disk, against reading it whole, side by side.

    python benchmarks/streaming.py                 # all of it (~35 minutes, 6 GB disk)
    python benchmarks/streaming.py --only speed    # streaming against in memory
    python benchmarks/streaming.py --only images   # an image folder, 20,000 images
    python benchmarks/streaming.py --only text     # text pairs, encoder-decoder
    python benchmarks/streaming.py --only items    # labelled items, siamese
    python benchmarks/streaming.py --only big --rows 4000000
    python benchmarks/streaming.py --python jax=/tmp/jax/bin/python --backends jax

Every run is the default `parallel` project's own command (`python -m PKG train`,
`evaluate`) in a fresh process on the backend it names, and its peak memory is
that process's maximum resident set size (`wait4`'s rusage).

- `big`: a table of ROWS x 32 float32 features and a label (16 million rows: 2 GB
  in memory) written as Parquet shards; `train --data DIR --epochs 1
  --steps-per-epoch 300`, then `evaluate` on a held-out file of a quarter as many
  rows (streamed: it is over 256 MB), and `predict` on that file to Parquet.
- `speed`: a table that fits in memory (262,144 rows) trained with `--stream off`
  and `--stream on`, alternately, for 1 and for EPOCHS epochs of 1024 steps: the
  steady-state samples/s is the extra epochs' samples over their extra time.
- `loss`: a table of 16,384 rows of three close classes, trained in memory and
  streamed (their validation splits differ: a shuffle against a hash), and the
  test loss of each run (a whole default run, early stopping included) on the same
  held-out file of 16,384 rows, and their mean accuracy.

- `images`: a siamese project of 64x64x3 images and a folder of IMAGES generated
  PNG images (stripes at one angle per class, noise), and the same pixels as one
  `.npz` array (read into memory): peak RSS of `train --data FOLDER` (streamed:
  its images take 983 MB as float32), and the samples/s of 1 and IMAGE_EPOCHS
  epochs of IMAGE_STEPS steps (`--image-steps`), folder against array,
  alternately. Batches of IMAGE_BATCH pairs: the default conv encoder at 64x64
  holds about 10 MB of activations per image in a training step, so the batch
  size, not the data, decides most of the memory.

- `text`: an encoder-decoder project and a Parquet file of TEXT_PAIRS text pairs
  that fits in memory (sentences of 4 to 12 made-up words, the target is the
  source backwards): `train --stream off` against `--stream on`, alternately, for 1
  and TEXT_EPOCHS epochs of TEXT_STEPS steps (`--text-steps`), timed inside the
  process as `benchmarks/train_command.py` does: steady pairs/s (epochs 2..K end to
  end, validation included) and in-epoch pairs/s (the training steps alone). The
  streamed run tokenizes its training rows afresh on every pass, the in-memory one
  once.

- `items`: the default siamese project and a Parquet table of labelled items that
  fits in memory (262,144 rows, 3 classes): `train --stream off` against `--stream
  on`, timed as `text` is (ITEM_EPOCHS epochs of ITEM_STEPS steps), and the peak
  RSS of `train --data DIR --epochs 1 --steps-per-epoch 300` on a folder of a
  quarter of ROWS items (4 million: 512 MB as float32), then `evaluate` and
  `predict` (embeddings) on a held-out folder of a sixteenth (streamed).

Nothing here asserts a number; it prints a Markdown table.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = 32
BATCH_SIZE = 64
STEPS = 1024
EPOCHS = 4
IMAGES = 20_000
IMAGE_BATCH = 32
IMAGE_STEPS = 200
IMAGE_EPOCHS = 3
TEXT_PAIRS = 200_000
TEXT_STEPS = 300
TEXT_EPOCHS = 3
ITEM_STEPS = 1024
ITEM_EPOCHS = 4


def write_table(folder: Path, rows: int, files: int, seed: int) -> Path:
    """`rows` examples of 3 classes (Gaussian clusters) as `files` Parquet files of
    row groups of 262,144 rows, written a slice at a time."""
    import pyarrow
    import pyarrow.parquet

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(0).normal(size=(3, FEATURES)).astype("float32")
    per_file = rows // files
    for index in range(files):
        with pyarrow.parquet.ParquetWriter(
            folder / f"part-{index:03d}.parquet",
            pyarrow.schema(
                [(f"x{column}", pyarrow.float32()) for column in range(FEATURES)]
                + [("label", pyarrow.int32())]
            ),
        ) as writer:
            for start in range(0, per_file, 262_144):
                count = min(262_144, per_file - start)
                labels = rng.integers(3, size=count).astype("int32")
                values = means[labels] + rng.normal(size=(count, FEATURES)).astype(
                    "float32"
                )
                columns = {f"x{c}": values[:, c] for c in range(FEATURES)}
                writer.write_table(pyarrow.table(columns | {"label": labels}))
    return folder


# The Python of each backend: this one, unless --python BACKEND=PATH names another
# (an environment with that backend alone: Keras imports TensorFlow wherever it is
# installed, in `keras.utils.set_random_seed`, and its memory counts).
PYTHONS: dict[str, str] = {}


def run(project: Path, backend: str, *args: str) -> dict:
    """Run `python -m PKG ARGS` in `project` on `backend`: seconds, peak RSS in MB,
    and its output."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [PYTHONS.get(backend, sys.executable), "-m", project.name, *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(project),
        },
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(args)} on {backend} failed:\n{output[-3000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "output": output}


def render(scratch: Path, name: str = "streambench", **answers) -> Path:
    """A project generated by kgen (no smoke training): by default the default
    parallel project."""
    from kgen.generate import render as render_project
    from kgen.questions import Questionnaire
    from kgen.template import builtin_source

    if (scratch / name).exists():  # rendered for an earlier backend
        return scratch / name
    source = builtin_source()
    answers = Questionnaire.of(source.local).resolve(
        {"pattern": "parallel", **answers, "project_name": name}
    )
    return render_project(source.url, scratch / name, answers)


def backends() -> list[str]:
    """The backends this Python has, and those --python names."""
    found = [name for name in ("tensorflow", "jax") if importlib.util.find_spec(name)]
    return found + [name for name in PYTHONS if name not in found]


def big(project: Path, scratch: Path, rows: int, backend: str) -> list[str]:
    data, held_out = scratch / "big", scratch / "held-out"
    if not data.exists():
        write_table(data, rows, files=16, seed=1)
        write_table(held_out, rows // 4, files=1, seed=2)
    size = sum(file.stat().st_size for file in data.iterdir()) / 2**30
    trained = run(
        project, backend, "train", "--data", str(data), "--epochs", "1",
        "--steps-per-epoch", "300", "--output-dir", str(scratch / "run-big"),
    )  # fmt: skip
    evaluated = run(
        project, backend, "evaluate", str(scratch / "run-big"),
        "--data", str(held_out / "part-000.parquet"),
    )  # fmt: skip
    predicted = run(
        project, backend, "predict", str(scratch / "run-big"),
        "--data", str(held_out / "part-000.parquet"),
        "--out", str(scratch / "predictions.parquet"), "--overwrite",
    )  # fmt: skip
    return [
        f"| {backend} | train, {rows:,} rows ({size:.1f} GB Parquet) | "
        f"{trained['seconds']:.0f} s | {trained['peak_mb']:,.0f} MB |",
        f"| {backend} | evaluate, {rows // 4:,} rows | "
        f"{evaluated['seconds']:.0f} s | {evaluated['peak_mb']:,.0f} MB |",
        f"| {backend} | predict, {rows // 4:,} rows | "
        f"{predicted['seconds']:.0f} s | {predicted['peak_mb']:,.0f} MB |",
    ]


def speed(project: Path, scratch: Path, backend: str, repeats: int) -> list[str]:
    path = scratch / "fits" / "part-000.parquet"
    if not path.exists():
        write_table(scratch / "fits", 262_144, files=1, seed=3)
    times: dict[str, dict[int, list[float]]] = {"off": {}, "on": {}}
    peaks: dict[str, float] = {}
    for _ in range(repeats):
        for mode in ("off", "on"):  # alternately: a noisy machine slows both alike
            for epochs in (1, EPOCHS):
                result = run(
                    project, backend, "train", "--data", str(path), "--stream", mode,
                    "--epochs", str(epochs), "--steps-per-epoch", str(STEPS),
                    "--patience", "100", "--output-dir", str(scratch / f"run-{mode}"),
                )  # fmt: skip
                times[mode].setdefault(epochs, []).append(result["seconds"])
                peaks[mode] = max(peaks.get(mode, 0), result["peak_mb"])
    rates = {}
    for mode, runs in times.items():
        extra = statistics.median(runs[EPOCHS]) - statistics.median(runs[1])
        rates[mode] = (EPOCHS - 1) * STEPS * BATCH_SIZE / extra
    return [
        f"| {backend} | {name} | {rates[mode]:,.0f} | {rates[mode] / rates['off']:.2f} "
        f"| {peaks[mode]:,.0f} MB |"
        for mode, name in (("off", "in memory"), ("on", "streamed"))
    ]


def loss(project: Path, scratch: Path, backend: str, seeds: int) -> list[str]:
    path, held_out = scratch / "hard.parquet", scratch / "hard-test.parquet"
    if not path.exists():
        # Three classes whose means lie close (the built-in data's test loss is
        # 0.0000 either way): a loss that tells runs apart, on one held-out file.
        import pyarrow
        import pyarrow.parquet

        rng = np.random.default_rng(1337)
        means = 0.15 * rng.normal(size=(3, FEATURES))
        for file in (path, held_out):
            labels = rng.integers(3, size=16_384).astype("int32")
            noise = rng.normal(size=(len(labels), FEATURES))
            values = (means[labels] + noise).astype("float32")
            columns = {f"x{c}": values[:, c] for c in range(FEATURES)}
            table = pyarrow.table(columns | {"label": labels})
            pyarrow.parquet.write_table(table, file, row_group_size=1024)
    lines = []
    for mode, name in (("off", "in memory"), ("on", "streamed")):
        results = []
        for seed in range(seeds):
            output = scratch / f"run-loss-{backend}-{mode}-{seed}"
            run(
                project, backend, "train", "--data", str(path), "--stream", mode,
                "--test-data", str(held_out), "--seed", str(seed),
                "--output-dir", str(output),
            )  # fmt: skip
            results.append(json.loads((output / "metrics.json").read_text()))
        losses = [result["loss"] for result in results]
        accuracies = [result["accuracy"] for result in results]
        lines.append(
            f"| {backend} | {name} | "
            + ", ".join(f"{value:.4f}" for value in losses)
            + f" | {statistics.mean(losses):.4f} | {statistics.mean(accuracies):.4f} |"
        )
    return lines


def write_images(folder: Path, count: int, seed: int) -> Path:
    """`count` labelled 64x64 RGB PNG images in `folder` (a subfolder per class),
    and the same pixels as a `.npz` array file beside it, which it returns."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    classes = rng.integers(8, size=count)
    rows, cols = np.meshgrid(np.arange(64), np.arange(64), indexing="ij")
    angles = np.pi * np.arange(8) / 8
    stripes = np.sin(
        np.cos(angles)[:, None, None] * rows + np.sin(angles)[:, None, None] * cols
    )
    pixels = np.empty((count, 64, 64, 3), "uint8")
    for index, label in enumerate(classes):
        noisy = stripes[label][..., None] + 0.75 * rng.normal(size=(64, 64, 3))
        pixels[index] = np.clip(noisy * 40 + 128, 0, 255)
        (folder / f"class {label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels[index]).save(folder / f"class {label}/{index:05}.png")
    array = folder.with_suffix(".npz")
    np.savez(array, items=pixels.astype("float32"), label=classes)
    return array


def images(scratch: Path, backend: str, repeats: int, steps: int) -> list[str]:
    project = render(scratch, "imagebench", pattern="siamese", input_shape="64x64x3")
    folder = scratch / "images"
    if not folder.exists():
        write_images(folder, IMAGES, seed=4)
    sources = {"streamed": str(folder), "in memory": str(folder.with_suffix(".npz"))}
    times: dict[str, dict[int, list[float]]] = {name: {} for name in sources}
    peaks: dict[str, float] = {}
    for _ in range(repeats):
        for name, data in sources.items():  # alternately, as in `speed`
            for epochs in (1, IMAGE_EPOCHS):
                result = run(
                    project, backend, "train", "--data", data,
                    "--batch-size", str(IMAGE_BATCH), "--epochs", str(epochs),
                    "--steps-per-epoch", str(steps), "--validation-steps", "8",
                    "--patience", "100", "--output-dir", str(scratch / "run-images"),
                )  # fmt: skip
                times[name].setdefault(epochs, []).append(result["seconds"])
                peaks[name] = max(peaks.get(name, 0), result["peak_mb"])
    rates = {}
    for name, runs in times.items():
        extra = statistics.median(runs[IMAGE_EPOCHS]) - statistics.median(runs[1])
        rates[name] = (IMAGE_EPOCHS - 1) * steps * IMAGE_BATCH / extra
    return [
        f"| {backend} | {name} | {rates[name]:,.0f} | "
        f"{rates[name] / rates['in memory']:.2f} | {peaks[name]:,.0f} MB |"
        for name in ("in memory", "streamed")
    ]


def write_pairs(path: Path, count: int, seed: int) -> Path:
    """`count` pairs of made-up sentences and the same words backwards, as Parquet."""
    import pyarrow
    import pyarrow.parquet

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, size=rng.integers(2, 8))) for _ in range(2000)]
    sources, targets = [], []
    for length in rng.integers(4, 13, size=count):
        sentence = [words[index] for index in rng.zipf(1.3, size=length) % len(words)]
        sources.append(" ".join(sentence))
        targets.append(" ".join(reversed(sentence)))
    table = pyarrow.table({"source": sources, "target": targets})
    pyarrow.parquet.write_table(table, path, row_group_size=65_536)
    return path


def text(scratch: Path, backend: str, repeats: int, steps: int) -> list[str]:
    # Timed inside the process, as benchmarks/train_command.py does: the runs take a
    # minute, and their start and end (the test's greedy decoding) vary by seconds.
    import train_command

    project = render(scratch, "textbench", pattern="encoder-decoder")
    path = scratch / "pairs.parquet"
    if not path.exists():
        write_pairs(path, TEXT_PAIRS, seed=5)
    python = PYTHONS.get(backend, sys.executable)
    runs: dict[str, tuple[list, list]] = {"off": ([], []), "on": ([], [])}
    for _ in range(repeats):
        for mode, (short, long) in runs.items():  # alternately, as in `speed`
            flags = ["--data", str(path), "--stream", mode]
            for epochs, kept in ((1, short), (TEXT_EPOCHS, long)):
                kept.append(
                    train_command.run_train(
                        python, backend, project, epochs, scratch, flags, steps
                    )
                )
    rows = {
        mode: train_command.summarize(short, long, TEXT_EPOCHS, BATCH_SIZE, steps)
        for mode, (short, long) in runs.items()
    }
    memory = rows["off"]
    return [
        f"| {backend} | {name} | {row['steady']:,.0f} | "
        f"{row['steady'] / memory['steady']:.2f} | {row['in_epoch']:,.0f} | "
        f"{row['in_epoch'] / memory['in_epoch']:.2f} |"
        for name, row in (("in memory", memory), ("streamed", rows["on"]))
    ]


def items(scratch: Path, backend: str, repeats: int, rows: int) -> list[str]:
    import train_command

    project = render(scratch, "itembench", pattern="siamese")
    path = scratch / "fits" / "part-000.parquet"
    if not path.exists():
        write_table(scratch / "fits", 262_144, files=1, seed=3)
    python = PYTHONS.get(backend, sys.executable)
    runs: dict[str, tuple[list, list]] = {"off": ([], []), "on": ([], [])}
    for _ in range(repeats):
        for mode, (short, long) in runs.items():  # alternately, as in `speed`
            flags = ["--data", str(path), "--stream", mode]
            for epochs, kept in ((1, short), (ITEM_EPOCHS, long)):
                kept.append(
                    train_command.run_train(
                        python, backend, project, epochs, scratch, flags, ITEM_STEPS
                    )
                )
    found = {
        mode: train_command.summarize(short, long, ITEM_EPOCHS, BATCH_SIZE, ITEM_STEPS)
        for mode, (short, long) in runs.items()
    }
    memory = found["off"]
    lines = [
        f"| {backend} | {name}, 262,144 items | {row['steady']:,.0f} pairs/s | "
        f"{row['steady'] / memory['steady']:.2f} x in memory |"
        for name, row in (("in memory", memory), ("streamed", found["on"]))
    ]
    data, held_out = scratch / f"items-{rows}", scratch / f"items-{rows}-held-out"
    if not data.exists():
        write_table(data, rows, files=4, seed=1)
        write_table(held_out, rows // 4, files=1, seed=2)
    run_dir = scratch / "run-items"
    trained = run(
        project, backend, "train", "--data", str(data), "--epochs", "1",
        "--steps-per-epoch", "300", "--output-dir", str(run_dir),
    )  # fmt: skip
    held = str(held_out)  # a folder: streamed, whatever its size
    evaluated = run(project, backend, "evaluate", str(run_dir), "--data", held)
    predicted = run(
        project, backend, "predict", str(run_dir), "--data", held,
        "--out", str(scratch / "embeddings.parquet"), "--overwrite",
    )  # fmt: skip
    for command, result, count in (
        ("train", trained, rows),
        ("evaluate", evaluated, rows // 4),
        ("predict", predicted, rows // 4),
    ):
        lines.append(
            f"| {backend} | {command}, {count:,} items streamed | "
            f"{result['seconds']:.0f} s | peak RSS {result['peak_mb']:,.0f} MB |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="big,speed,images,text,items,loss")
    parser.add_argument("--rows", type=int, default=16_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--image-steps", type=int, default=IMAGE_STEPS)
    parser.add_argument("--text-steps", type=int, default=TEXT_STEPS)
    parser.add_argument("--backends", help="comma-separated; default: all found")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="the Python to run BACKEND with (repeatable)",
    )
    args = parser.parse_args()
    PYTHONS.update(entry.split("=", 1) for entry in args.python)
    args.backends = args.backends or ",".join(backends())
    parts = args.only.split(",")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        project = render(scratch)
        if "big" in parts:
            print("| backend | command | time | peak RSS |\n| --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                print("\n".join(big(project, scratch, args.rows, backend)), flush=True)
        if "speed" in parts:
            print("\n| backend | data | samples/s | x in memory | peak RSS |")
            print("| --- | --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                lines = speed(project, scratch, backend, args.repeats)
                print("\n".join(lines), flush=True)
        if "images" in parts:
            print(f"\n| backend | {IMAGES:,} images | pairs/s | x in memory ", end="")
            print("| peak RSS |")
            print("| --- | --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                lines = images(scratch, backend, args.repeats, args.image_steps)
                print("\n".join(lines), flush=True)
        if "text" in parts:
            print(f"\n| backend | {TEXT_PAIRS:,} text pairs | steady pairs/s ", end="")
            print("| x in memory | in-epoch pairs/s | x in memory |")
            print("| --- | --- | --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                lines = text(scratch, backend, args.repeats, args.text_steps)
                print("\n".join(lines), flush=True)
        if "items" in parts:
            print("\n| backend | run | result | |\n| --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                lines = items(scratch, backend, args.repeats, args.rows // 4)
                print("\n".join(lines), flush=True)
        if "loss" in parts:
            print("\n| backend | data | test loss per seed | mean | mean accuracy |")
            print("| --- | --- | --- | --- | --- |")
            for backend in args.backends.split(","):
                print(
                    "\n".join(loss(project, scratch, backend, args.seeds)), flush=True
                )


if __name__ == "__main__":
    main()
