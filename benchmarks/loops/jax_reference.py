"""The default siamese network, contrastive loss and Adam written in JAX by hand.

    python jax_reference.py PACKAGE EPOCHS SEED EXAMPLES BATCH_SIZE

An epoch is one `jit`-compiled `lax.scan` over shuffled full batches: no Python per
step, no input pipeline. The same data, sizes, initializer, loss and optimizer
settings as the generated project's defaults: the limit for this model on this
machine. Prints JSON: steady-state samples/s (epoch 1 left out) and test loss.
"""

import importlib
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

package = sys.argv[1]
epochs, seed, examples, batch_size = map(int, sys.argv[2:6])
configs = importlib.import_module(f"{package}.config")
data = importlib.import_module(f"{package}.data")
model, train_config = configs.ModelConfig(), configs.TrainConfig()
# The same items; pairs drawn from them once (the project draws them every batch).
items = data.make_synthetic_items(examples, model.input_shape, seed=seed)
train_items, _, test_items = data.split(items, seed=seed)
train = data.draw_pairs(train_items, pairs_per_item=1, seed=seed)
test = data.draw_pairs(test_items, pairs_per_item=1, seed=seed)

widths = [model.input_shape[-1]] + [model.encoder_width] * model.encoder_depth
key = jax.random.PRNGKey(seed)
params = []
for fan_in, fan_out in zip(widths, [*widths[1:], model.embedding_dim], strict=True):
    key, subkey = jax.random.split(key)
    limit = np.sqrt(6 / (fan_in + fan_out))  # glorot_uniform, Keras' default
    shape = (fan_in, fan_out)
    kernel = jax.random.uniform(subkey, shape, minval=-limit, maxval=limit)
    params.append((kernel, jnp.zeros(fan_out)))


def embed(params, x):
    for kernel, bias in params[:-1]:
        x = jax.nn.relu(x @ kernel + bias)
    return x @ params[-1][0]  # the embedding layer has no bias


def contrastive_loss(params, left, right, label):
    squared = jnp.sum((embed(params, left) - embed(params, right)) ** 2, axis=-1)
    distance = jnp.sqrt(jnp.maximum(squared, 1e-7))
    apart = jnp.maximum(train_config.margin - distance, 0) ** 2
    return jnp.mean(label * distance**2 + (1 - label) * apart)


RATE, BETA1, BETA2, EPSILON = train_config.learning_rate, 0.9, 0.999, 1e-7


def adam_step(state, batch):
    params, first, second, count = state
    loss, grads = jax.value_and_grad(contrastive_loss)(params, *batch)
    count = count + 1
    first = jax.tree.map(lambda m, g: BETA1 * m + (1 - BETA1) * g, first, grads)
    second = jax.tree.map(lambda v, g: BETA2 * v + (1 - BETA2) * g * g, second, grads)
    scale = RATE * jnp.sqrt(1 - BETA2**count) / (1 - BETA1**count)
    params = jax.tree.map(
        lambda p, m, v: p - scale * m / (jnp.sqrt(v) + EPSILON), params, first, second
    )
    return (params, first, second, count), loss


@jax.jit
def epoch(state, arrays, key):
    order = jax.random.permutation(key, arrays[0].shape[0])
    count = arrays[0].shape[0] // batch_size

    def batched(array):
        whole = array[order][: count * batch_size]
        return whole.reshape(count, batch_size, *array.shape[1:])

    return jax.lax.scan(adam_step, state, tuple(batched(array) for array in arrays))


zeros = jax.tree.map(jnp.zeros_like, params)
state = (params, zeros, zeros, jnp.array(0.0))
arrays = tuple(jnp.asarray(a) for a in (train[0]["left"], train[0]["right"], train[1]))
times = []
for number in range(epochs):
    start = time.perf_counter()
    state, losses = epoch(state, arrays, jax.random.PRNGKey(number))
    losses.block_until_ready()
    times.append(time.perf_counter() - start)
trained = (len(train[1]) // batch_size) * batch_size
test_arrays = (test[0]["left"], test[0]["right"], test[1])
test_loss = float(contrastive_loss(state[0], *(jnp.asarray(a) for a in test_arrays)))
result = {
    "samples_per_s": trained * (epochs - 1) / sum(times[1:]),
    "test_loss": test_loss,
}
print(json.dumps(result))
