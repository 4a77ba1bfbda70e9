"""Text pairs streamed from disk (tools/streaming.py), on small files cut into many
pieces and chunks."""

import itertools
import json

import numpy as np
import pyarrow
import pyarrow.parquet
import pytest

from encoder_decoder.config import TrainConfig
from encoder_decoder.data import as_data
from encoder_decoder.tools import predict, streaming
from encoder_decoder.tools.evaluate import evaluate
from encoder_decoder.tools.readers import DataError, write_file
from encoder_decoder.tools.schema import find_schema, read_tokens
from encoder_decoder.tools.streaming import (
    Split,
    StreamBatches,
    join,
    stream_splits,
    streams,
)
from encoder_decoder.train import train

ROWS = 3000
ANIMALS = ["cat", "dog", "bird", "fish", "horse", "cow"]


def pairs(count=ROWS, seed=1) -> dict[str, np.ndarray]:
    """Text pairs of every length from 2 to 9 words, each source numbered: the
    number tells the rows apart."""
    rng = np.random.default_rng(seed)
    source, target = [], []
    for row in range(count):
        animals = rng.choice(ANIMALS, rng.integers(1, 9)).tolist()
        source.append(f"{row} " + " ".join(animals))
        target.append(" ".join(animals[::-1]) + "!")
    return {"source": np.array(source), "target": np.array(target)}


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


def open_splits(path, seed=0, max_words=20000, max_length=100):
    """The schema and the train, validation and test streams of `path`."""
    split = Split(seed, 0.1, 0.1)
    return stream_splits(path, {}, split, max_words, max_length, as_data)


def keys(stream) -> list[bytes]:
    """The source tokens of every example of a stream, as bytes (a training row's
    are its own: its number is a word of the vocabulary)."""
    inputs = join(list(stream.chunks(range(len(stream.pieces)))))[0]
    return [row.tobytes() for row in inputs["source"]]


def test_folders_stream_and_npz_files_never(tmp_path):
    path = write_parquet(pairs(), tmp_path / "data.parquet")
    assert not streams(path) and streams(path, "on")
    assert streams(write_shards(pairs(), tmp_path / "shards"))
    npz = tmp_path / "data.npz"
    write_file(pairs(), npz)
    assert not streams(npz)
    with pytest.raises(DataError, match="save it as Parquet"):
        streams(npz, "on")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_stream_finds_the_schema_of_the_file_read_whole(tmp_path, suffix, capsys):
    path = tmp_path / f"data{suffix}"
    write_file(pairs(), path)
    # Few words and tokens: the training split decides which words and rows fit.
    schema, _ = open_splits(path, max_words=5, max_length=6)
    streamed_note = capsys.readouterr().err
    training = Split(0, 0.1, 0.1).parts(0, ROWS, None) == 0
    read_whole = find_schema(path, {}, np.flatnonzero(training), 5, 6)
    assert schema == read_whole
    assert schema.lengths == {"source": 6, "target": 7}
    assert len(schema.vocabularies["source"]) == 5
    assert "rows cut to the model's lengths" in streamed_note


def test_the_parts_never_overlap_and_every_file_splits_alike(tmp_path):
    columns = pairs()
    path = write_parquet(columns, tmp_path / "data.parquet")
    schema, parts = open_splits(path)
    # Each row in one part, chosen by the hash of its number; read in order.
    source, _ = read_tokens(path, schema)
    chosen = Split(0, 0.1, 0.1).parts(0, ROWS, None)
    for part, stream in enumerate(parts):
        expected = [row.tobytes() for row in source[chosen == part]]
        assert keys(stream) == expected and stream.num_examples == len(expected)
    assert 0.7 * ROWS < parts[0].num_examples < 0.9 * ROWS  # about 80/10/10
    write_file(columns, tmp_path / "data.csv")
    for other in (write_shards(columns, tmp_path / "shards"), tmp_path / "data.csv"):
        _, other_parts = open_splits(other)
        assert [keys(part) for part in other_parts] == [keys(part) for part in parts]


def test_a_pass_of_training_batches_reads_each_training_row_once(tmp_path):
    _, (train_split, _, _) = open_splits(
        write_parquet(pairs(), tmp_path / "data.parquet")
    )
    batch_size = 64
    per_pass = train_split.num_examples // batch_size

    def first_pass(seed):
        batches = StreamBatches(train_split, batch_size, training=True, seed=seed)
        sources = [batches[index][0]["source"] for index in range(per_pass)]
        return [row.tobytes() for row in np.concatenate(sources)]

    read = first_pass(seed=5)
    assert len(set(read)) == len(read) == per_pass * batch_size
    assert set(read) <= set(keys(train_split))
    assert read == first_pass(seed=5)  # reproducible
    assert read != first_pass(seed=6)
    assert read[:batch_size] != keys(train_split)[:batch_size]  # shuffled


def test_a_bad_cell_deep_in_a_stream_names_its_file_and_row(tmp_path):
    columns = pairs()
    columns["target"][2345] = " "
    folder = write_shards(columns, tmp_path / "shards")
    with pytest.raises(DataError, match=r"part-3.parquet: 'target' is empty .*row 95,"):
        open_splits(folder)
    numbers = {"source": np.arange(ROWS), "target": pairs()["target"]}
    path = write_parquet(numbers, tmp_path / "numbers.parquet")
    with pytest.raises(DataError, match=r"numbers.parquet: 'source' holds int64"):
        open_splits(path)


@pytest.mark.slow
def test_train_evaluate_and_predict_stream_folders_and_files(
    tmp_path, monkeypatch, capsys
):
    folder = write_shards(pairs(), tmp_path / "shards")
    held_out = write_parquet(pairs(400, seed=2), tmp_path / "test.parquet")
    config = TrainConfig(
        data_path=str(folder),
        test_path=str(held_out),
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
    evaluated = evaluate(tmp_path / "run", held_out, tmp_path / "plots")
    assert evaluated == pytest.approx(results, rel=1e-4)
    sources = {"source": pairs(seed=3)["source"]}  # predict needs no targets

    def spoil(columns):
        columns["source"] = columns["source"].copy()
        columns["source"][2900] = " "
        return columns

    check_predict_streams(
        tmp_path / "run", sources, spoil, tmp_path, monkeypatch, capsys
    )
