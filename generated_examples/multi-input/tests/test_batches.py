"""The batches `fit` reads: full, reshuffled on every pass, each example once."""

import keras
import numpy as np
import pytest

from multi_input.model import build_model, compile_model
from multi_input.tools.batches import ArrayBatches, batches


def concatenate(parts):
    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)


def test_training_batches_are_full_and_reshuffled_on_every_pass(batch):
    inputs = batch[0]
    count = len(keras.tree.flatten(inputs)[0])
    # Example ids as the targets: each batch tells which examples it holds.
    stream = ArrayBatches((inputs, np.arange(count)), batch_size=24, training=True)
    assert stream.num_batches is None  # endless, like tf.data's repeat()
    taken = [stream[index] for index in range(-(-3 * count // 24))]
    assert {len(ids) for _, ids in taken} == {24}
    for batch_inputs, ids in taken:  # inputs travel with their example
        keras.tree.map_structure(
            lambda got, array, ids=ids: np.testing.assert_array_equal(got, array[ids]),
            batch_inputs,
            inputs,
        )
    ids = np.concatenate([ids for _, ids in taken])
    passes = [ids[number * count : (number + 1) * count] for number in range(3)]
    for order in passes:  # every example once per pass
        np.testing.assert_array_equal(np.sort(order), np.arange(count))
    assert not np.array_equal(passes[0], passes[1]), "the same order twice"


def test_evaluation_batches_hold_every_example_once_in_order(batch):
    parts = ArrayBatches(batch, batch_size=24)
    assert parts.num_batches == -(-len(keras.tree.flatten(batch)[0]) // 24)
    merged = concatenate([parts[index] for index in range(parts.num_batches)])
    keras.tree.map_structure(np.testing.assert_array_equal, merged, batch)


def test_the_backends_batches_carry_the_same_examples(config, batch):
    # tf.data on TensorFlow, ArrayBatches on JAX and torch: the same loss either way.
    model = compile_model(build_model(config))
    inputs, targets = batch
    expected = model.evaluate(inputs, targets, batch_size=24, verbose=0)
    assert model.evaluate(batches(batch, 24), verbose=0) == pytest.approx(
        expected, rel=1e-5
    )
