"""One training run of a generated project, in a fresh process on KERAS_BACKEND.

    python keras_loop.py PACKAGE STYLE EPOCHS SEED EXAMPLES BATCH_SIZE

STYLE `generated` is the project's own loop (`batches.py`, the backend's default
steps per compiled call); `seed` is `model.fit` on numpy arrays, one batch per call.
EXAMPLES synthetic examples for siamese and parallel; 0 takes the project's built-in
data (`load_splits`), for any pattern. Prints JSON: steady-state samples/s (epoch 1
left out), test loss, steps per call.
"""

import dataclasses
import importlib
import json
import math
import sys
import time

import keras

package, style = sys.argv[1], sys.argv[2]
epochs, seed, examples, batch_size = map(int, sys.argv[3:7])
batches = importlib.import_module(f"{package}.batches").batches
configs = importlib.import_module(f"{package}.config")
data = importlib.import_module(f"{package}.data")
model_module = importlib.import_module(f"{package}.model")

keras.utils.set_random_seed(seed)
model_config = configs.ModelConfig()
config = dataclasses.replace(configs.TrainConfig(), batch_size=batch_size)
if style == "seed":
    config = dataclasses.replace(config, steps_per_execution=1)
if not examples:
    train, _, test = data.load_splits(seed=seed)
elif hasattr(data, "make_synthetic_pairs"):  # siamese
    shape = model_config.input_shape
    everything = data.make_synthetic_pairs(examples, shape, seed=seed)
    train, _, test = data.split(everything, seed=seed)
else:  # parallel
    shape, classes = model_config.input_shape, model_config.num_classes
    everything = data.make_synthetic_data(examples, shape, classes, seed=seed)
    train, _, test = data.split(everything, seed=seed)
model = model_module.compile_model(model_module.build_model(model_config), config)
steps = math.ceil(data.num_examples(train) / config.batch_size)
if style == "seed":
    fit = {"x": train[0], "y": train[1], "batch_size": config.batch_size}
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
    samples = data.num_examples(train)
result = {
    "samples_per_s": samples * (epochs - 1) / sum(times[1:]),
    "test_loss": loss,
    "steps_per_execution": config.steps_per_execution,
}
print(json.dumps(result))
