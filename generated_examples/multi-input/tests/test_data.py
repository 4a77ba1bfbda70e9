import keras
import numpy as np
import pytest

from multi_input.data import DataError, load_data, make_synthetic_data, split


def test_synthetic_data_covers_every_class(config):
    inputs, labels = make_synthetic_data(3000, config.input_widths, config.num_classes)
    for name, width in config.input_widths:
        assert inputs[name].shape == (3000, width)
    assert set(np.unique(labels)) == set(range(config.num_classes))


def test_npz_round_trip(config, batch, tmp_path):
    inputs, labels = batch
    np.savez(tmp_path / "data.npz", label=labels, **inputs)
    loaded, loaded_labels = load_data(
        tmp_path / "data.npz", config.input_widths, config.num_classes
    )
    for name in inputs:
        np.testing.assert_array_equal(loaded[name], inputs[name])
    np.testing.assert_array_equal(loaded_labels, labels)


def test_malformed_files_are_explained(config, batch, tmp_path):
    inputs, labels = batch
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing.npz", config.input_widths, config.num_classes)
    np.savez(tmp_path / "no_labels.npz", **inputs)
    with pytest.raises(DataError, match="lacks the arrays \\['label'\\]"):
        load_data(tmp_path / "no_labels.npz", config.input_widths, config.num_classes)
    first, width = config.input_widths[0]
    wrong = {**inputs, first: np.zeros((64, width + 1), "float32")}
    np.savez(tmp_path / "wide.npz", label=labels, **wrong)
    with pytest.raises(DataError, match=f"'{first}' has shape"):
        load_data(tmp_path / "wide.npz", config.input_widths, config.num_classes)


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
