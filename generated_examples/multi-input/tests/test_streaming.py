"""Tables streamed from disk (tools/streaming.py), on small files cut into many
pieces and chunks."""

import itertools
import json

import numpy as np
import pyarrow
import pyarrow.parquet
import pytest

from multi_input.config import TARGETS, ModelConfig, TrainConfig
from multi_input.data import as_data, make_synthetic_data
from multi_input.tools import predict, streaming
from multi_input.tools.evaluate import evaluate
from multi_input.tools.readers import DataError, write_file
from multi_input.tools.schema import find_schema
from multi_input.tools.streaming import (
    Split,
    StreamBatches,
    adaptation_data,
    join,
    stream_splits,
    streams,
)
from multi_input.train import train

ROWS = 3000
FIRST = next(iter(dict(ModelConfig().input_widths)))
KEY = f"{FIRST}.x0"  # a random number: it tells the rows apart
COLOUR = f"{FIRST}.colour"


def table(count=ROWS, seed=1) -> dict[str, np.ndarray]:
    """Built-in examples as a user's table: a text column, class names."""
    inputs, targets = make_synthetic_data(count, ModelConfig().input_widths, seed=seed)
    columns = {}
    for name, values in inputs.items():
        for index, feature in enumerate(values.T):
            columns[f"{name}.x{index}"] = feature
    columns[COLOUR] = np.array(["red", "green", "blue"])[np.arange(count) % 3]
    for name, values in targets.items():
        values = values.reshape(count)
        if TARGETS[name]:
            values = np.array([f"kind {value}" for value in values])
        columns[name] = values
    return columns


def write_parquet(columns, path, rows_per_group=250):
    """`columns` as a Parquet file of many row groups: many pieces to stream."""
    pyarrow.parquet.write_table(
        pyarrow.table(columns), path, row_group_size=rows_per_group
    )
    return path


def write_shards(columns, folder, shards=4):
    """`columns` as a folder of Parquet files, the rows in order."""
    folder.mkdir()
    bounds = np.linspace(0, ROWS, shards + 1).astype(int)
    for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = {name: values[start:stop] for name, values in columns.items()}
        write_parquet(part, folder / f"part-{index}.parquet")
    return folder


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Read small files as streams read big ones: a chunk at a time."""
    monkeypatch.setattr(streaming, "CHUNK_ROWS", 100)
    monkeypatch.setattr(streaming, "CSV_BLOCK_BYTES", 20_000)
    monkeypatch.setattr(streaming, "SHUFFLE_BYTES", 10_000)


def check_predict_streams(run, columns, spoil, tmp_path, monkeypatch, capsys):
    """`predict` on a folder of `columns` (streamed, in a few blocks) gives the
    predictions of the same rows read whole; its command writes them all as they
    come, and a cell that `spoil` breaks deep in the folder leaves --out as it was."""
    monkeypatch.setattr(streaming, "BLOCK_BATCHES", 2)
    whole = predict.predict(run, write_parquet(columns, tmp_path / "new.parquet"))
    folder = write_shards(columns, tmp_path / "new")
    blocks = list(predict.predict_blocks(run, folder))
    assert len(blocks) > 1
    streamed = join(blocks)
    assert streamed.keys() == whole.keys()
    for name, values in whole.items():
        if values.dtype.kind == "f":
            np.testing.assert_allclose(streamed[name], values, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(streamed[name], values)
    out = tmp_path / "predictions.parquet"
    predict.main([str(run), "--data", str(folder), "--out", str(out)])
    assert f"Predictions for {ROWS} examples: {out}" in capsys.readouterr().out
    written = pyarrow.parquet.read_table(out)
    assert written.num_rows == ROWS and set(written.column_names) == set(whole)
    bad = write_shards(spoil(columns), tmp_path / "bad")  # its last file
    with pytest.raises(SystemExit) as exit_info:
        predict.main([str(run), "--data", str(bad), "--out", str(out), "--overwrite"])
    assert exit_info.value.code == 2
    assert "part-3.parquet" in capsys.readouterr().err
    assert pyarrow.parquet.read_table(out).equals(written)
    assert not list(tmp_path.glob(".*.partial"))


def open_splits(path, seed=0, group=None):
    """The schema and the train, validation and test streams of `path`."""
    return stream_splits(path, {}, None, TARGETS, Split(seed, 0.1, 0.1, group), as_data)


def keys(stream) -> np.ndarray:
    """The KEY values of every example of a stream."""
    inputs = join(list(stream.chunks(range(len(stream.pieces)))))[0]
    return inputs[FIRST][:, 0]


def test_streams_by_size_unless_told(tmp_path, monkeypatch):
    path = write_parquet(table(), tmp_path / "data.parquet")
    assert not streams(path)
    assert streams(path, "on")
    monkeypatch.setattr(streaming, "STREAM_ABOVE", path.stat().st_size - 1)
    assert streams(path) and not streams(path, "off")
    folder = write_shards(table(), tmp_path / "shards")
    assert streams(folder) and streams(tmp_path / "shards" / "*.parquet")
    with pytest.raises(DataError, match="always streamed"):
        streams(folder, "off")
    npz = tmp_path / "data.npz"
    write_file(table(), npz)
    with pytest.raises(DataError, match="save it as Parquet"):
        streams(npz, "on")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_stream_finds_the_schema_of_the_file_read_whole(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    write_file(table(), path)
    schema, _ = open_splits(path)
    assert schema == find_schema(path, {}, None, None)
    assert schema.categories == {COLOUR: ["blue", "green", "red"]}


def test_the_parts_never_overlap_and_every_file_splits_alike(tmp_path):
    columns = table()
    _, parts = open_splits(write_parquet(columns, tmp_path / "data.parquet"))
    found = [keys(part) for part in parts]
    assert [len(part) for part in found] == [part.num_examples for part in parts]
    assert sorted(np.concatenate(found)) == sorted(columns[KEY])
    assert 0.7 * ROWS < len(found[0]) < 0.9 * ROWS  # about 80/10/10
    _, sharded = open_splits(write_shards(columns, tmp_path / "shards"))
    for part, shards_part in zip(found, sharded, strict=True):
        np.testing.assert_array_equal(part, keys(shards_part))
    _, reseeded = open_splits(tmp_path / "data.parquet", seed=1)
    assert set(keys(reseeded[2])) != set(found[2])


def test_a_group_stays_in_one_part(tmp_path):
    columns = table() | {"patient": np.arange(ROWS) // 7}
    path = write_parquet(columns, tmp_path / "data.parquet")
    schema, parts = open_splits(path, group="patient")
    assert "patient" not in schema.inputs[FIRST]
    patients = dict(
        zip(columns[KEY].tolist(), columns["patient"].tolist(), strict=True)
    )
    seen = [{patients[key] for key in keys(part).tolist()} for part in parts]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])


def test_adapt_learns_the_training_rows_mean_and_variance(tmp_path):
    _, (train_split, _, _) = open_splits(
        write_parquet(table(), tmp_path / "data.parquet")
    )
    inputs = join(list(train_split.chunks(range(len(train_split.pieces)))))[0]
    moments = adaptation_data(train_split)[0]
    for name, values in inputs.items():
        np.testing.assert_allclose(
            moments[name].mean(axis=0), values.mean(axis=0), atol=1e-5
        )
        np.testing.assert_allclose(
            moments[name].std(axis=0), values.std(axis=0), rtol=1e-4
        )


def test_a_pass_of_training_batches_reads_each_training_row_once(tmp_path):
    _, (train_split, _, _) = open_splits(
        write_parquet(table(), tmp_path / "data.parquet")
    )
    batch_size = 64
    per_pass = train_split.num_examples // batch_size

    def first_pass(seed):
        batches = StreamBatches(train_split, batch_size, training=True, seed=seed)
        return np.concatenate([batches[i][0][FIRST][:, 0] for i in range(per_pass)])

    read = first_pass(seed=5)
    assert len(set(read.tolist())) == len(read) == per_pass * batch_size
    assert set(read.tolist()) <= set(keys(train_split).tolist())
    np.testing.assert_array_equal(read, first_pass(seed=5))  # reproducible
    assert not np.array_equal(read, first_pass(seed=6))
    first_rows = keys(train_split)[:batch_size]  # not in the file's order
    assert not np.array_equal(np.sort(read[:batch_size]), np.sort(first_rows))


def test_a_small_validation_part_is_read_from_disk_once(tmp_path, monkeypatch):
    path = write_parquet(table(), tmp_path / "data.parquet")
    _, (_, validation_split, _) = open_splits(path)
    batches = StreamBatches(validation_split, 64)
    first = [batches[index] for index in range(batches.num_batches)]

    def unread(*_):
        raise AssertionError("read from disk again")

    monkeypatch.setattr(streaming, "read_piece", unread)
    again = [batches[index] for index in range(batches.num_batches)]
    for batch, same in zip(first, again, strict=True):
        np.testing.assert_array_equal(batch[0][FIRST], same[0][FIRST])
    assert sum(len(batch[0][FIRST]) for batch in again) == validation_split.num_examples


def test_a_bad_cell_deep_in_a_stream_names_its_file_and_row(tmp_path):
    columns = table()
    columns[KEY] = columns[KEY].copy()
    columns[KEY][2345] = np.nan
    folder = write_shards(columns, tmp_path / "shards")
    with pytest.raises(DataError, match=r"part-3.parquet: '.*' has NaN .* row 95,"):
        open_splits(folder)
    path = tmp_path / "data.csv"
    write_file(table(), path)
    lines = path.read_text().splitlines()  # KEY is the first column
    lines[1 + 2345] = "abc" + lines[1 + 2345][lines[1 + 2345].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"data.csv: .*'?abc'?"):
        open_splits(path)


@pytest.mark.slow
def test_train_evaluate_and_predict_stream_folders_and_files(
    tmp_path, monkeypatch, capsys
):
    folder = write_shards(table(), tmp_path / "shards")
    held_out = write_parquet(table(400, seed=2), tmp_path / "test.parquet")
    config = TrainConfig(
        data_path=str(folder),
        test_path=str(held_out),
        stream="on",
        epochs=1,
        steps_per_epoch=8,
        validation_steps=2,
        output_dir=str(tmp_path / "run"),
    )
    results = train(config)
    printed = capsys.readouterr().out
    assert "Streaming" in printed and "validates on 2 of the" in printed
    assert results == pytest.approx(
        json.loads((tmp_path / "run" / "metrics.json").read_text())
    )
    assert set(evaluate(tmp_path / "run", held_out, tmp_path / "plots")) == set(results)
    features = table(seed=3)
    for name in TARGETS:  # predict needs no targets
        del features[name]

    def spoil(columns):
        columns[KEY] = columns[KEY].copy()
        columns[KEY][2900] = np.nan
        return columns

    check_predict_streams(
        tmp_path / "run", features, spoil, tmp_path, monkeypatch, capsys
    )
