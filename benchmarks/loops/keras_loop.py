"""One training run of a generated project, in a fresh process on KERAS_BACKEND.

    python keras_loop.py PACKAGE STYLE EPOCHS SEED EXAMPLES BATCH_SIZE [DATA_FILE]

STYLE `generated` is the project's own loop (`tools/batches.py`, or `tools/pairs.py`
for siamese items; the backend's default steps per compiled call); `seed` is
`model.fit` on numpy arrays, one batch per call. EXAMPLES synthetic examples for
siamese and parallel; 0 takes the project's own `load_splits`: its built-in data, or
DATA_FILE.
Prints JSON: steady-state samples/s (epoch 1 left out), test loss, steps per call,
and the seconds `load_splits` took.
"""

import dataclasses
import importlib
import importlib.util
import json
import math
import sys
import time

import keras

package, style = sys.argv[1], sys.argv[2]
epochs, seed, examples, batch_size = map(int, sys.argv[3:7])
data_file = sys.argv[7] if len(sys.argv) > 7 else None
batches = importlib.import_module(f"{package}.tools.batches").batches
readers = importlib.import_module(f"{package}.tools.readers")
configs = importlib.import_module(f"{package}.config")
data = importlib.import_module(f"{package}.data")
model_module = importlib.import_module(f"{package}.model")
# load_splits(config), with a schema
reads_files = importlib.util.find_spec(f"{package}.tools.schema") is not None

keras.utils.set_random_seed(seed)
model_config = configs.ModelConfig()
config = dataclasses.replace(
    configs.TrainConfig(), batch_size=batch_size, seed=seed, data_path=data_file
)
if style == "seed":
    config = dataclasses.replace(config, steps_per_execution=1)
start = time.perf_counter()
if not examples and reads_files:
    train, _, test, schema = data.load_splits(config)
    shape = tuple(schema.input_shape)
    model_config = dataclasses.replace(model_config, input_shape=shape)
elif not examples:
    train, _, test = data.load_splits(seed=seed)
elif hasattr(data, "make_synthetic_items"):  # siamese: items, pairs drawn from them
    items = data.make_synthetic_items(examples, model_config.input_shape, seed=seed)
    train, _, test_items = readers.split(items, seed=seed)
    test = data.draw_pairs(test_items, pairs_per_item=1, seed=seed)
else:  # parallel
    shape = model_config.input_shape
    train, _, test = readers.split(
        data.as_data(*data.make_synthetic_data(examples, shape, seed=seed)), seed=seed
    )
load_seconds = time.perf_counter() - start
pairs_from_items = "items" in train[0]
if style == "seed" and pairs_from_items:  # numpy arrays: pairs drawn once
    train = data.draw_pairs(train, pairs_per_item=1, seed=seed)
model = model_module.build_model(model_config)
if reads_files:
    model = model_module.adapt(model, train)
model = model_module.compile_model(model, config)
steps = math.ceil(readers.num_examples(train) / config.batch_size)
if style == "seed":
    fit = {"x": train[0], "y": train[1], "batch_size": config.batch_size}
elif pairs_from_items:
    pairs = importlib.import_module(f"{package}.tools.pairs")
    training_batches = pairs.training_batches
    fit = {
        "x": training_batches(train, config.batch_size, seed=seed),
        "steps_per_epoch": steps,
        "shuffle": False,
    }
else:
    fit = {
        "x": batches(train, config.batch_size, training=True, seed=seed),
        "steps_per_epoch": steps,
        "shuffle": False,
    }
times = []


class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)


model.fit(**fit, epochs=epochs, verbose=0, callbacks=[Clock()])
loss = model.evaluate(batches(test, 1024), verbose=0, return_dict=True)["loss"]
# An epoch of the generated loop runs whole compiled calls of full batches from the
# endless stream; the seed style runs one pass, its last batch partial.
calls = -(-steps // config.steps_per_execution)
samples = calls * config.steps_per_execution * config.batch_size
if style == "seed":
    samples = readers.num_examples(train)
result = {
    "samples_per_s": samples * (epochs - 1) / sum(times[1:]),
    "test_loss": loss,
    "steps_per_execution": config.steps_per_execution,
    "load_seconds": load_seconds,
}
print(json.dumps(result))
