"""The batches `fit` reads: full, reshuffled on every pass, each example once."""

import keras
import numpy as np
import pytest

from multi_input.batches import ArrayBatches, batches
from multi_input.model import build_model, compile_model


def sorted_rows(data):
    """Each example as one row, inputs and targets side by side, rows sorted."""
    leaves = keras.tree.flatten(data)
    rows = np.concatenate([np.reshape(leaf, (len(leaf), -1)) for leaf in leaves], 1)
    return rows[np.lexsort(rows.T[::-1])]


def concatenate(parts):
    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)


def test_training_batches_are_full_and_reshuffled_on_every_pass(batch):
    count = len(sorted_rows(batch))
    stream = ArrayBatches(batch, batch_size=24, training=True, seed=0)
    assert stream.num_batches is None  # endless, like tf.data's repeat()
    taken = [stream[index] for index in range(-(-3 * count // 24))]
    assert {len(sorted_rows(batch)) for batch in taken} == {24}
    stream_rows = keras.tree.flatten(concatenate(taken))
    passes = [
        [leaf[number * count : (number + 1) * count] for leaf in stream_rows]
        for number in range(3)
    ]
    for part in passes:  # every example once, its inputs and targets together
        np.testing.assert_array_equal(sorted_rows(part), sorted_rows(batch))
    assert not np.array_equal(passes[0][0], passes[1][0]), "same order twice"


def test_evaluation_batches_hold_every_example_once_in_order(batch):
    parts = ArrayBatches(batch, batch_size=24)
    assert parts.num_batches == -(-len(sorted_rows(batch)) // 24)
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
