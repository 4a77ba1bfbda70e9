"""Training throughput of a generated project against the seed articles' style.

    python benchmarks/throughput.py            # siamese and parallel, 3 epochs each

Both runs train the same generated model (`build_model`, `compile_model`: same
loss, optimizer and learning rate) on the same built-in data at the same batch size
for the same number of epochs, each in a fresh process, so their test losses should
agree within noise. "generated" is the project's own loop: a `tf.data` input (cached,
shuffled, batched, prefetched) and `steps_per_execution` from its TrainConfig. "naive"
is what the seed articles do: `model.fit` on numpy arrays with Keras' defaults (one
batch per compiled call). Samples per second leave out the first epoch (tracing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN = textwrap.dedent("""
    import dataclasses, json, sys, time
    import keras
    from {package}.config import ModelConfig, TrainConfig
    from {package}.data import load_splits, num_examples, to_dataset
    from {package}.model import build_model, compile_model

    style, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keras.utils.set_random_seed(seed)
    train, _, test = load_splits()
    config = TrainConfig()
    model = build_model(ModelConfig())
    if style == "generated":
        compile_model(model, config)
        data = to_dataset(train, config.batch_size, training=True)
        steps = -(-num_examples(train) // config.batch_size)
        fit = dict(x=data, steps_per_epoch=steps)
    else:
        compile_model(model, dataclasses.replace(config, steps_per_execution=1))
        fit = dict(x=train[0], y=train[1], batch_size=config.batch_size)
    times = []
    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)
    model.fit(**fit, epochs=epochs, verbose=0, callbacks=[Clock()])
    loss = model.evaluate(test[0], test[1], verbose=0, return_dict=True)["loss"]
    samples = num_examples(train) * (epochs - 1)
    print(json.dumps({{"samples_per_s": samples / sum(times[1:]), "test_loss": loss}}))
    """)


def measure(project: Path, package: str, style: str, epochs: int, seed: int) -> dict:
    script = project / "throughput_run.py"
    script.write_text(RUN.format(package=package))
    result = subprocess.run(
        [sys.executable, str(script), style, str(epochs), str(seed)],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(epochs: int = 3, seed: int = 0) -> list[tuple[str, dict, dict]]:
    """(pattern, generated, naive) measurements, siamese and parallel."""
    from kgen.generate import render
    from kgen.questions import Questionnaire
    from kgen.template import builtin_source

    source = builtin_source()
    questionnaire = Questionnaire.of(source.local)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for pattern in ("siamese", "parallel"):
            answers = questionnaire.resolve(
                {"pattern": pattern, "project_name": "bench"}
            )
            project = render(source.url, Path(scratch) / pattern, answers)
            ours = measure(project, "bench", "generated", epochs, seed)
            naive = measure(project, "bench", "naive", epochs, seed)
            rows.append((pattern, ours, naive))
    return rows


def describe(pattern: str, ours: dict, naive: dict) -> str:
    """One line: both throughputs, their ratio and both test losses."""
    return (
        f"{pattern:<9} generated {ours['samples_per_s']:9.0f} samples/s "
        f"(test loss {ours['test_loss']:.4f})  "
        f"naive {naive['samples_per_s']:9.0f} samples/s "
        f"(test loss {naive['test_loss']:.4f})  "
        f"ratio {ratio(ours, naive):.2f}"
    )


def ratio(ours: dict, naive: dict) -> float:
    return ours["samples_per_s"] / naive["samples_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    args = parser.parse_args()
    for pattern, ours, naive in compare(args.epochs, args.seed):
        print(describe(pattern, ours, naive))


if __name__ == "__main__":
    main()
