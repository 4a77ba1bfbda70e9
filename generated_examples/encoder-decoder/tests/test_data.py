import json

import keras
import numpy as np
import pytest

from encoder_decoder.config import END, PAD, START, UNKNOWN, TrainConfig
from encoder_decoder.data import as_data, load_splits, make_synthetic_data
from encoder_decoder.tools.evaluate import evaluate
from encoder_decoder.tools.predict import predict
from encoder_decoder.tools.readers import DataError, split, write_file
from encoder_decoder.tools.schema import (
    as_text,
    find_schema,
    joined,
    read_tokens,
    words,
)
from encoder_decoder.train import main, train

ANIMALS = ["cat", "dog", "bird", "fish", "horse", "cow"]
COLOURS = ["red", "green", "blue"]


def sentences(count=120, seed=0):
    """Text pairs: "The red cat." becomes "cat's red-ish!", every word kept."""
    rng = np.random.default_rng(seed)
    animals = rng.choice(ANIMALS, count)
    colours = rng.choice(COLOURS, count)
    source = [f"The {c} {a}." for c, a in zip(colours, animals, strict=True)]
    target = [f"{a}'s {c}-ish!" for c, a in zip(colours, animals, strict=True)]
    return {"english": np.array(source), "reversed": np.array(target)}


COLUMNS = {"source": "english", "target": "reversed"}


def write(columns, path):
    """Write columns as the project writes files (by suffix); return the path."""
    write_file(columns, path)
    return path


def test_targets_reverse_sources_and_decoder_inputs_are_shifted(config):
    inputs, target, weights = make_synthetic_data(
        100, config.source_vocab_size, config.sequence_length
    )
    np.testing.assert_array_equal(target[:, :-1], inputs["source"][:, ::-1])
    np.testing.assert_array_equal(target[:, -1], END)
    np.testing.assert_array_equal(inputs["decoder_input"][:, 0], START)
    np.testing.assert_array_equal(inputs["decoder_input"][:, 1:], target[:, :-1])
    assert inputs["source"].min() > UNKNOWN
    assert inputs["source"].max() < config.source_vocab_size
    np.testing.assert_array_equal(weights, 1.0)


def test_padded_steps_weigh_nothing_and_the_end_token_is_not_read():
    target = np.array([[5, 6, END, PAD], [7, END, PAD, PAD]])
    inputs, _, weights = as_data(np.array([[4, 4], [5, PAD]]), target)
    np.testing.assert_array_equal(
        inputs["decoder_input"], [[START, 5, 6, PAD], [START, 7, PAD, PAD]]
    )
    np.testing.assert_array_equal(weights, [[1, 1, 1, 0], [1, 1, 0, 0]])


def test_text_is_read_as_lowercase_words_and_marks_with_their_spaces():
    expected = [" the", " red", " cat", ",", " at", " 5", "."]
    assert words("The red Cat, at 5.") == expected


@pytest.mark.parametrize(
    "text",
    [
        "It's a well-known fact, isn't it?",
        ' "Two  thousand,"\tshe said (roughly)...\n',
        "Rock'n'roll -- 3.5% off; e-mail: a@b.c!",
    ],
)
def test_words_join_back_into_the_text(text):
    assert joined(words(text)) == " ".join(text.lower().split())


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npz"])
def test_text_pairs_read_back_as_their_words(tmp_path, suffix):
    columns = sentences()
    path = write(columns, tmp_path / f"pairs{suffix}")
    schema = find_schema(path, COLUMNS, np.arange(120), 100, 100)
    assert sorted(schema.vocabularies["source"]) == sorted(
        [" the", "."] + [f" {word}" for word in ANIMALS + COLOURS]
    )
    assert schema.lengths == {"source": 4, "target": 8}
    source, target = read_tokens(path, schema)
    # Text comes back as text: "cat's red-ish!", not "cat ' s red - ish !".
    assert as_text(source, schema, "source") == [
        text.lower() for text in columns["english"]
    ]
    assert as_text(target, schema) == list(columns["reversed"])


def test_vocabularies_come_from_the_training_split_only(tmp_path):
    # A word of its own in each pair: those of the held-out pairs are unknown.
    names = [f"w{row}" for row in range(50)]
    columns = {
        "english": np.array([f"The {name}." for name in names]),
        "reversed": np.array([f"{name}!" for name in names]),
    }
    path = write(columns, tmp_path / "pairs.csv")
    config = TrainConfig(data_path=str(path), columns="source=english,target=reversed")
    train_split, validation_split, test_split, schema = load_splits(config)
    assert as_text(test_split[0]["source"], schema, "source") == ["the [unk]."] * 5
    assert as_text(validation_split[1], schema) == ["[unk]!"] * 5
    assert "[unk]" not in " ".join(as_text(train_split[1], schema))
    # --max-words counts the words of the 40 training pairs only.
    assert len(schema.vocabularies["source"]) == 2 + 40
    small = find_schema(path, COLUMNS, np.arange(50), 2, 100)
    assert small.vocabularies["source"] == [" the", "."]  # as frequent: by name


def test_own_token_ids_in_npz(tmp_path):
    source = np.array([[1, 2, 3], [4, 5, 0]])
    path = write({"source": source, "target": source[:, ::-1]}, tmp_path / "ids.npz")
    schema = find_schema(path, {}, np.arange(2), 100, 100)
    assert schema.vocabularies is None
    assert schema.sizes == {"source": 9, "target": 9}
    tokens, target = read_tokens(path, schema)
    assert as_text(tokens, schema, "source") == ["1 2 3", "4 5"]
    assert as_text(target, schema) == ["3 2 1", "5 4"]


def test_held_out_files_use_the_training_vocabularies(tmp_path):
    train_path = write(sentences(200), tmp_path / "train.csv")
    test_columns = sentences(20, seed=1)
    test_columns["english"][0] = "The golden fish."
    test_path = write(test_columns, tmp_path / "test.csv")
    config = TrainConfig(
        data_path=str(train_path),
        test_path=str(test_path),
        columns="source=english,target=reversed",
    )
    train_split, validation_split, test_split, schema = load_splits(config)
    assert [len(part[1]) for part in (train_split, validation_split)] == [180, 20]
    assert as_text(test_split[0]["source"][:1], schema, "source") == ["the [unk] fish."]


def test_a_far_longer_line_is_cut_and_counted(tmp_path, capsys):
    columns = sentences(200)
    columns["english"] = columns["english"].astype(object)
    columns["english"][7] = "The red cat. " * 5000  # 20,000 words
    path = write(columns, tmp_path / "pairs.csv")
    held_out = write(sentences(20, seed=1), tmp_path / "held_out.csv")
    config = TrainConfig(
        data_path=str(path),
        validation_path=str(held_out),
        test_path=str(held_out),
        columns="source=english,target=reversed",
    )
    train_split, _, _, schema = load_splits(config)
    assert schema.lengths == {"source": config.max_length, "target": 8}
    assert train_split[0]["source"].shape == (200, config.max_length)
    assert f"{path}: 1 of 200 rows cut" in capsys.readouterr().err


@pytest.mark.slow
def test_train_evaluate_and_predict_from_text_pairs(tmp_path):
    path = write(sentences(400), tmp_path / "pairs.parquet")
    test_columns = sentences(40, seed=1)
    test_path = write(test_columns, tmp_path / "test.csv")
    run = tmp_path / "run"
    config = TrainConfig(
        data_path=str(path),
        test_path=str(test_path),
        columns="source=english,target=reversed",
        epochs=1,
        steps_per_epoch=64,
        learning_rate=0.01,
        output_dir=str(run),
    )
    results = train(config)
    schema = json.loads((run / "schema.json").read_text())
    assert schema["columns"] == COLUMNS
    evaluated = evaluate(run, test_path, tmp_path / "plots")
    assert set(evaluated) == set(results)
    for plot in ("learning_curves.png", "decoded.png"):
        assert (run / plot).is_file()
    assert (tmp_path / "plots" / "decoded.png").is_file()
    predictions = predict(run, test_path)
    assert list(predictions["source"]) == [
        text.lower() for text in test_columns["english"]
    ]
    # exact_match: the share of decoded texts that are their target as written,
    # such as "cat's red-ish!"; after 64 steps, some are.
    decoded_whole = predictions["prediction"] == test_columns["reversed"]
    assert 0 < decoded_whole.mean() == pytest.approx(results["exact_match"])
    assert evaluated["exact_match"] == pytest.approx(results["exact_match"])


def no_target(columns):
    del columns["reversed"]
    return columns


def numbers(columns):
    columns["english"] = np.arange(120.0)
    return columns


def empty_cell(columns):
    columns["english"] = np.array([None] + list(columns["english"][1:]), object)
    return columns


def blank_sources(columns):
    columns["english"][[3, 7]] = ["", " \t"]
    return columns


def blank_target(columns):
    columns["reversed"][5] = " "
    return columns


@pytest.mark.parametrize(
    ("break_it", "suffix", "message"),
    [
        (no_target, ".csv", "has no column 'reversed'"),
        (numbers, ".parquet", "integer token ids from 1"),
        (empty_cell, ".parquet", "'english' is empty in 1 rows"),
        (blank_sources, ".csv", r"'english' is empty in 2 rows \(first: row 3"),
        (blank_target, ".npz", r"'reversed' is empty in 1 rows \(first: row 5"),
        (lambda columns: columns, ".npy", "numpy.savez"),
    ],
    ids=["no-target", "numbers", "empty-cell", "blank-sources", "blank-target", "npy"],
)
def test_bad_data_is_one_line_and_writes_nothing(
    tmp_path, capsys, break_it, suffix, message
):
    path = tmp_path / f"pairs{suffix}"
    if suffix == ".npy":
        np.save(path, np.zeros((4, 2)))
    else:
        write(break_it(sentences()), path)
    config = TrainConfig(data_path=str(path), columns="source=english,target=reversed")
    with pytest.raises(DataError, match=message):
        load_splits(config)
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        flags = ["--columns", "source=english,target=reversed"]
        main(["--data", str(path), "--output-dir", str(run), *flags])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not run.exists()


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


def test_a_run_of_another_version_is_one_line(tmp_path):
    (tmp_path / "best.keras").touch()
    # A schema.json with fields this version's Schema does not have.
    (tmp_path / "schema.json").write_text('{"features": ["x0"], "width": 1}\n')
    with pytest.raises(DataError, match="train again"):
        evaluate(tmp_path, tmp_path / "data.csv")
