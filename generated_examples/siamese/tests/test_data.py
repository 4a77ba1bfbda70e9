import keras
import numpy as np
import pytest

from siamese.data import DataError, load_pairs, make_synthetic_pairs, split


def test_synthetic_pairs_are_balanced(config):
    inputs, labels = make_synthetic_pairs(2000, config.input_shape, seed=0)
    assert inputs["left"].shape == inputs["right"].shape == (2000, *config.input_shape)
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert 0.4 < labels.mean() < 0.6


def test_npz_round_trip(config, batch, tmp_path):
    inputs, labels = batch
    path = tmp_path / "pairs.npz"
    np.savez(path, left=inputs["left"], right=inputs["right"], label=labels)
    loaded_inputs, loaded_labels = load_pairs(path, config.input_shape)
    np.testing.assert_array_equal(loaded_inputs["left"], inputs["left"])
    np.testing.assert_array_equal(loaded_inputs["right"], inputs["right"])
    np.testing.assert_array_equal(loaded_labels, labels)


def test_malformed_files_are_explained(config, batch, tmp_path):
    inputs, labels = batch
    with pytest.raises(DataError, match="does not exist"):
        load_pairs(tmp_path / "missing.npz", config.input_shape)
    np.savez(tmp_path / "no_labels.npz", left=inputs["left"], right=inputs["right"])
    with pytest.raises(DataError, match="lacks the arrays \\['label'\\]"):
        load_pairs(tmp_path / "no_labels.npz", config.input_shape)
    np.savez(
        tmp_path / "short.npz",
        left=inputs["left"][:3],
        right=inputs["right"],
        label=labels,
    )
    with pytest.raises(DataError, match="'left' has shape"):
        load_pairs(tmp_path / "short.npz", config.input_shape)


def example_rows(data):
    """Each example as one row, its inputs and targets side by side, rows sorted."""
    leaves = keras.tree.flatten(data)
    rows = np.concatenate([np.reshape(leaf, (len(leaf), -1)) for leaf in leaves], 1)
    return rows[np.lexsort(rows.T[::-1])]


def test_split_keeps_each_example_whole_and_once(batch):
    parts = split(batch, validation=0.25, test=0.25, seed=0)
    assert [len(example_rows(part)) for part in parts] == [32, 16, 16]
    # Whole rows: every input and target of an example stays together.
    merged = keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)
    np.testing.assert_array_equal(example_rows(merged), example_rows(batch))
