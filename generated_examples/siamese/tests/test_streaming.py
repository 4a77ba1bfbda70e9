"""Labelled items streamed from disk (tools/streaming.py), on small files cut into
many pieces and chunks."""

import itertools
import json

import numpy as np
import pyarrow
import pyarrow.parquet
import pytest

from siamese.config import ModelConfig, TrainConfig
from siamese.data import (
    as_items,
    chunk_pairs,
    draw_pairs,
    load_data,
    load_splits,
    make_synthetic_items,
)
from siamese.tools import predict, streaming
from siamese.tools.evaluate import evaluate, main
from siamese.tools.pairs import pair_labels
from siamese.tools.readers import DataError, write_file
from siamese.tools.schema import find_schema
from siamese.tools.streaming import (
    Split,
    StreamBatches,
    adaptation_data,
    blocks_in_order,
    join,
    stream_splits,
    streams,
)
from siamese.train import train

ROWS = 3000
KEY = "x0"  # a random number: it tells the items apart


def table(count=ROWS, seed=1, classes=8) -> dict[str, np.ndarray]:
    """Built-in items as a user's table: a column per feature, class names."""
    inputs, labels = make_synthetic_items(
        count, ModelConfig().input_shape, num_classes=classes, seed=seed
    )
    columns = {f"x{index}": values for index, values in enumerate(inputs["items"].T)}
    columns["label"] = np.array([f"class {label}" for label in labels])
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


def open_splits(path, seed=0, by_class=False):
    """The schema and the train, validation and test streams of `path`."""
    split = Split(seed, 0.1, 0.1, "label" if by_class else None)
    return stream_splits(path, "label", None, split, as_items, chunk_pairs)


def pairs_of(stream, number=0) -> tuple:
    """Every pair of a stream, in pass `number`."""
    return join(list(stream.chunks(range(len(stream.pieces)), number)))


def left_keys(stream) -> np.ndarray:
    """The KEY of the left item of every pair of a stream: its items, in order."""
    return pairs_of(stream)[0]["left"][:, 0]


def labels_by_key(columns) -> dict[float, str]:
    return dict(zip(columns[KEY].tolist(), columns["label"].tolist(), strict=True))


def test_streams_by_size_unless_told(tmp_path, monkeypatch):
    path = write_parquet(table(), tmp_path / "items.parquet")
    assert not streams(path)
    assert streams(path, "on")
    monkeypatch.setattr(streaming, "STREAM_ABOVE", path.stat().st_size - 1)
    assert streams(path) and not streams(path, "off")
    assert streams(write_shards(table(), tmp_path / "shards"))
    npz = tmp_path / "items.npz"
    write_file(table(), npz)
    assert not streams(npz)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_stream_finds_the_schema_of_the_file_read_whole(tmp_path, suffix):
    path = tmp_path / f"items{suffix}"
    write_file(table(), path)
    schema, _ = open_splits(path)
    assert schema == find_schema(path, "label", None)


def test_each_item_of_a_part_is_the_left_item_of_one_pair(tmp_path):
    columns = table()
    _, parts = open_splits(write_parquet(columns, tmp_path / "items.parquet"))
    lefts = [left_keys(part) for part in parts]
    assert [len(keys) for keys in lefts] == [part.num_examples for part in parts]
    assert sorted(np.concatenate(lefts)) == sorted(columns[KEY])  # no overlap
    assert 0.7 * ROWS < len(lefts[0]) < 0.9 * ROWS  # about 80/10/10
    _, sharded = open_splits(write_shards(columns, tmp_path / "shards"))
    for keys, part in zip(lefts, sharded, strict=True):
        np.testing.assert_array_equal(keys, left_keys(part))


def test_pairs_are_half_same_and_never_leave_their_part(tmp_path):
    columns = table()
    label = labels_by_key(columns)
    _, parts = open_splits(write_parquet(columns, tmp_path / "items.parquet"))
    for part in parts:
        inputs, same = pairs_of(part)
        left, right = inputs["left"][:, 0].tolist(), inputs["right"][:, 0].tolist()
        classes = [(label[a], label[b]) for a, b in zip(left, right, strict=True)]
        np.testing.assert_array_equal(same, [a == b for a, b in classes])
        assert set(right) <= set(left)  # partners from the part itself
    # A training chunk holds several items of each class: half the pairs are of
    # one class, and no item is its own partner.
    inputs, same = pairs_of(parts[0])
    assert 0.4 < same.mean() < 0.6
    assert (inputs["left"] != inputs["right"]).any(axis=1).all()


def test_training_pairs_change_every_pass_and_held_out_pairs_do_not(tmp_path):
    path = write_parquet(table(), tmp_path / "items.parquet")
    _, (train_split, validation_split, _) = open_splits(path)
    first, second = pairs_of(train_split, 0), pairs_of(train_split, 1)
    np.testing.assert_array_equal(first[0]["left"], second[0]["left"])
    assert not np.array_equal(first[0]["right"], second[0]["right"])
    blocks = [join(list(blocks_in_order(validation_split, 64))) for _ in range(2)]
    again = open_splits(path)[1][1]
    for pairs in (blocks[1], pairs_of(again)):
        np.testing.assert_array_equal(pairs[0]["right"], blocks[0][0]["right"])
    np.testing.assert_array_equal(pair_labels(validation_split, 64), blocks[0][1])


def test_by_class_a_class_stays_in_one_part(tmp_path):
    columns = table(classes=40)
    label = labels_by_key(columns)
    path = write_parquet(columns, tmp_path / "items.parquet")
    config = TrainConfig(data_path=str(path), stream="on", split_by="class")
    *parts, _ = load_splits(config)
    seen = [{label[key] for key in left_keys(part).tolist()} for part in parts]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert all(len(classes) >= 2 for classes in seen)


def test_by_class_validation_and_test_take_a_tenth_of_the_classes(tmp_path):
    columns = table(classes=50)
    columns["label"] = np.unique(columns["label"], return_inverse=True)[1]
    path = tmp_path / "items.csv"  # integer labels, which a CSV stream reads as floats
    write_file(columns, path)
    config = TrainConfig(data_path=str(path), stream="on", split_by="class")
    *parts, _ = load_splits(config)
    label = labels_by_key(columns)
    seen = [{label[key] for key in left_keys(part).tolist()} for part in parts]
    assert [len(classes) for classes in seen] == [40, 5, 5]


def test_too_few_classes_to_split_by_class_stop_the_run(tmp_path):
    path = write_parquet(table(classes=5), tmp_path / "items.parquet")
    with pytest.raises(DataError, match="needs 6 classes.* the data has 5"):
        open_splits(path, by_class=True)


def test_a_held_out_file_without_a_column_is_named(tmp_path):
    schema, _ = open_splits(write_parquet(table(), tmp_path / "items.parquet"))
    columns = table()
    folder = write_shards(columns, tmp_path / "held-out")
    lacking = {name: values for name, values in columns.items() if name != "x7"}
    write_file(lacking, folder / "part-3.parquet")
    with pytest.raises(DataError, match="part-3.parquet lacks the columns 'x7'"):
        load_data(folder, schema)


def test_adapt_learns_the_training_items_mean_and_variance(tmp_path):
    _, (train_split, _, _) = open_splits(
        write_parquet(table(), tmp_path / "items.parquet")
    )
    items = pairs_of(train_split)[0]["left"]
    moments = adaptation_data(train_split)[0]["items"]
    np.testing.assert_allclose(moments.mean(axis=0), items.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(moments.std(axis=0), items.std(axis=0), rtol=1e-4)


def test_a_chunk_of_one_class_pairs_its_items_with_each_other():
    items = ({"items": np.arange(10, dtype="float32")[:, None]}, np.zeros(10, int))
    inputs, same = draw_pairs(items, pairs_per_item=1, seed=0)
    assert same.all()
    assert (inputs["left"] != inputs["right"]).all()


def test_many_small_classes_in_no_order_are_noted(tmp_path, capsys):
    columns = table(classes=ROWS // 4)
    open_splits(write_parquet(columns, tmp_path / "shuffled.parquet"))
    assert "grouped by class" in capsys.readouterr().err
    order = np.argsort(columns["label"], kind="stable")
    grouped = {name: values[order] for name, values in columns.items()}
    open_splits(write_parquet(grouped, tmp_path / "grouped.parquet"))
    assert "grouped by class" not in capsys.readouterr().err


def test_a_pass_of_training_batches_reads_each_training_item_once(tmp_path):
    _, (train_split, _, _) = open_splits(
        write_parquet(table(), tmp_path / "items.parquet")
    )
    batch_size = 64
    per_pass = train_split.num_examples // batch_size
    batches = StreamBatches(train_split, batch_size, training=True, seed=5)
    read = np.concatenate([batches[i][0]["left"][:, 0] for i in range(per_pass)])
    assert len(set(read.tolist())) == len(read) == per_pass * batch_size
    assert set(read.tolist()) <= set(left_keys(train_split).tolist())


def test_a_bad_cell_deep_in_a_stream_names_its_file_and_row(tmp_path):
    columns = table()
    columns[KEY] = columns[KEY].copy()
    columns[KEY][2345] = np.nan
    with pytest.raises(DataError, match=r"part-3.parquet: 'x0' has NaN .* row 95,"):
        open_splits(write_shards(columns, tmp_path / "shards"))
    columns = table()
    columns["label"] = columns["label"].copy()
    columns["label"][2345] = ""
    with pytest.raises(DataError, match=r"part-3.parquet: 'label' is empty .* row 95,"):
        open_splits(write_shards(columns, tmp_path / "labels"))


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
    assert (tmp_path / "plots" / "pairs.png").is_file()
    # A bad cell that TensorFlow's pipeline meets: one line, exit status 2.
    spoilt = table(seed=2)
    spoilt["label"] = spoilt["label"].copy()
    spoilt["label"][2900] = ""
    bad = write_shards(spoilt, tmp_path / "bad-test")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "run"), "--data", str(bad)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "part-3.parquet: 'label' is empty" in error and "Traceback" not in error
    items = table(seed=3)
    del items["label"]  # predict needs no labels

    def spoil(columns):
        columns[KEY] = columns[KEY].copy()
        columns[KEY][2900] = np.nan
        return columns

    check_predict_streams(tmp_path / "run", items, spoil, tmp_path, monkeypatch, capsys)
