import keras
import numpy as np
import pytest

from parallel.data import DataError, load_data, make_synthetic_data, split


def test_synthetic_data_covers_every_class(config):
    inputs, labels = make_synthetic_data(3000, config.input_shape, config.num_classes)
    assert inputs["features"].shape == (3000, *config.input_shape)
    assert set(np.unique(labels)) == set(range(config.num_classes))


def test_npz_round_trip(config, batch, tmp_path):
    inputs, labels = batch
    np.savez(tmp_path / "data.npz", features=inputs["features"], label=labels)
    loaded, loaded_labels = load_data(
        tmp_path / "data.npz", config.input_shape, config.num_classes
    )
    np.testing.assert_array_equal(loaded["features"], inputs["features"])
    np.testing.assert_array_equal(loaded_labels, labels)


def test_malformed_files_are_explained(config, batch, tmp_path):
    inputs, labels = batch
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing.npz", config.input_shape, config.num_classes)
    np.savez(tmp_path / "no_labels.npz", features=inputs["features"])
    with pytest.raises(DataError, match="lacks the arrays \\['label'\\]"):
        load_data(tmp_path / "no_labels.npz", config.input_shape, config.num_classes)
    np.savez(tmp_path / "bad.npz", features=inputs["features"], label=labels + 100)
    with pytest.raises(DataError, match="integer classes"):
        load_data(tmp_path / "bad.npz", config.input_shape, config.num_classes)


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
