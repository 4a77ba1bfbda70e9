import keras
import numpy as np
import pytest

from encoder_decoder.data import DataError, load_data, make_synthetic_data, split


def test_targets_reverse_sources_and_decoder_inputs_are_shifted(config):
    inputs, target = make_synthetic_data(100, config.vocab_size, config.sequence_length)
    np.testing.assert_array_equal(target, inputs["source"][:, ::-1])
    np.testing.assert_array_equal(inputs["decoder_input"][:, 0], 0)
    np.testing.assert_array_equal(inputs["decoder_input"][:, 1:], target[:, :-1])
    assert inputs["source"].min() >= 1 and inputs["source"].max() < config.vocab_size


def test_npz_round_trip(config, batch, tmp_path):
    inputs, target = batch
    np.savez(tmp_path / "data.npz", source=inputs["source"], target=target)
    loaded, loaded_target = load_data(
        tmp_path / "data.npz", config.vocab_size, config.sequence_length
    )
    for name in inputs:
        np.testing.assert_array_equal(loaded[name], inputs[name])
    np.testing.assert_array_equal(loaded_target, target)


def test_malformed_files_are_explained(config, batch, tmp_path):
    inputs, target = batch
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing.npz", config.vocab_size, config.sequence_length)
    np.savez(tmp_path / "no_target.npz", source=inputs["source"])
    with pytest.raises(DataError, match="lacks the arrays \\['target'\\]"):
        load_data(tmp_path / "no_target.npz", config.vocab_size, config.sequence_length)
    np.savez(tmp_path / "bad.npz", source=inputs["source"], target=target + 1000)
    with pytest.raises(DataError, match="integer tokens"):
        load_data(tmp_path / "bad.npz", config.vocab_size, config.sequence_length)


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
