import keras
import numpy as np
import pytest

from multi_output.config import HEADS
from multi_output.data import DataError, load_data, make_synthetic_data, split


def test_synthetic_data_has_a_target_per_head(config):
    inputs, targets = make_synthetic_data(3000, config.input_shape)
    assert inputs["features"].shape == (3000, *config.input_shape)
    assert set(targets) == set(HEADS)
    for name, classes in HEADS.items():
        if classes:
            assert set(np.unique(targets[name])) == set(range(classes))
        else:
            assert targets[name].shape == (3000, 1)
            assert 0.8 < targets[name].std() < 1.2


def test_npz_round_trip(config, batch, tmp_path):
    inputs, targets = batch
    np.savez(tmp_path / "data.npz", features=inputs["features"], **targets)
    loaded, loaded_targets = load_data(tmp_path / "data.npz", config.input_shape)
    np.testing.assert_array_equal(loaded["features"], inputs["features"])
    for name in HEADS:
        np.testing.assert_array_equal(loaded_targets[name], targets[name])


def test_malformed_files_are_explained(config, batch, tmp_path):
    inputs, targets = batch
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing.npz", config.input_shape)
    first = next(iter(HEADS))
    partial = {name: array for name, array in targets.items() if name != first}
    np.savez(tmp_path / "partial.npz", features=inputs["features"], **partial)
    with pytest.raises(DataError, match=f"lacks the arrays \\['{first}'\\]"):
        load_data(tmp_path / "partial.npz", config.input_shape)
    short = {**targets, first: targets[first][:10]}
    np.savez(tmp_path / "short.npz", features=inputs["features"], **short)
    with pytest.raises(DataError, match="has shape"):
        load_data(tmp_path / "short.npz", config.input_shape)


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
