import json
import re

import keras
import numpy as np
import pytest

from parallel.config import TARGETS, ModelConfig, TrainConfig
from parallel.data import as_data, as_targets, load_splits, make_synthetic_data
from parallel.model import adapt, build_model
from parallel.tools.evaluate import evaluate
from parallel.tools.predict import predict
from parallel.tools.readers import DataError, split, write_file
from parallel.tools.schema import category_names, find_schema, read_examples
from parallel.train import main, train

CLASSIFIED = [name for name, classes in TARGETS.items() if classes]
# The width of the model's one input of the built-in data, and its Normalization.
WIDTHS = {"features": ModelConfig().input_shape[-1]}
NORMALIZE = {"features": "normalize"}


def column(name, feature):
    """The table column of an input's feature: the feature's name."""
    return feature


# The table columns of each input: its features `x0`, `x1`, ...
COLUMNS = {
    name: [column(name, f"x{index}") for index in range(width)]
    for name, width in WIDTHS.items()
}
FIRST = next(iter(WIDTHS))


def table(count=96, seed=1):
    """Built-in examples as table columns: those of every input, one per target."""
    inputs, targets = make_synthetic_data(count, ModelConfig().input_shape, seed=seed)
    columns = {}
    for name, values in inputs.items():
        columns |= dict(zip(COLUMNS[name], values.T, strict=True))
    return columns | {name: values.reshape(count) for name, values in targets.items()}


def write(columns, path):
    """Write columns as the project writes files (by suffix); return the path."""
    write_file(columns, path)
    return path


def test_synthetic_data_has_every_target():
    inputs, targets = make_synthetic_data(3000, ModelConfig().input_shape)
    assert {name: values.shape for name, values in inputs.items()} == {
        name: (3000, width) for name, width in WIDTHS.items()
    }
    assert set(targets) == set(TARGETS)
    for name, classes in TARGETS.items():
        if classes:
            assert set(np.unique(targets[name])) == set(range(classes))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npz"])
def test_tables_and_npz_read_back_the_same_examples(tmp_path, suffix):
    columns = table()
    path = write(columns, tmp_path / f"data{suffix}")
    schema = find_schema(path, {}, None, None)
    assert schema.inputs == COLUMNS
    assert schema.widths == WIDTHS
    inputs, targets, _ = read_examples(path, schema)
    for name, names in COLUMNS.items():
        expected = np.stack([columns[column] for column in names], axis=1)
        np.testing.assert_allclose(inputs[name], expected, rtol=1e-6)
    for name in TARGETS:
        np.testing.assert_allclose(targets[name].reshape(-1), columns[name], rtol=1e-6)


def test_class_names_and_renamed_columns(tmp_path):
    columns = table()
    renamed = {}
    for name in CLASSIFIED:
        names = np.array([f"kind {index}" for index in range(TARGETS[name])])
        renamed[name] = f"{name} column"
        columns[renamed[name]] = names[columns.pop(name)]
    path = write(columns, tmp_path / "named.csv")
    reordered = {name: names[::-1] for name, names in COLUMNS.items()}
    flag = ",".join(reordered["features"])
    schema = find_schema(path, renamed, flag, None)
    assert schema.inputs == reordered
    _, targets, _ = read_examples(path, schema)
    for name in CLASSIFIED:
        found = sorted(set(columns[renamed[name]]))
        assert schema.classes[name] == found
        np.testing.assert_array_equal(
            np.array(found)[targets[name]], columns[renamed[name]]
        )


def test_text_features_are_one_hot_categories(tmp_path):
    columns = table()
    colour = column(FIRST, "colour")
    columns[colour] = np.array(["red", "green", "blue"] * 32, dtype=object)
    path = write(columns, tmp_path / "colours.parquet")
    schema = find_schema(path, {}, None, None)
    assert schema.categories == {colour: ["blue", "green", "red"]}
    assert schema.widths[FIRST] == WIDTHS[FIRST] + 3
    inputs, _, _ = read_examples(path, schema)
    one_hot = inputs[FIRST][:3, -3:]
    np.testing.assert_array_equal(one_hot, [[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    # A colour the training file did not have: all zeros, the model has not seen it.
    columns[colour] = np.array(["purple"] * 96, dtype=object)
    inputs, _, _ = read_examples(write(columns, tmp_path / "new.csv"), schema)
    assert not inputs[FIRST][:, -3:].any()


def test_a_group_never_reaches_two_parts():
    groups = np.arange(500) // 7  # 72 groups, of 7 rows but the last
    data = ({"group": groups}, groups)
    parts = split(data, validation=0.2, test=0.2, seed=3, groups=groups)
    seen = [set(part[1].tolist()) for part in parts]
    assert set.union(*seen) == set(groups.tolist())
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert all(len(part[1]) for part in parts)


def test_held_out_files_replace_their_part(tmp_path):
    train_path = write(table(200), tmp_path / "train.csv")
    test_columns = table(30, seed=2)
    test_path = write(test_columns, tmp_path / "test.csv")
    config = TrainConfig(data_path=str(train_path), test_path=str(test_path))
    train_split, validation_split, test_split, _ = load_splits(config)
    assert len(train_split[0][FIRST]) == 180
    assert len(validation_split[0][FIRST]) == 20
    np.testing.assert_allclose(
        test_split[0][FIRST][:, 0], test_columns[COLUMNS[FIRST][0]]
    )


def test_the_saved_model_takes_raw_features(tmp_path):
    inputs, targets = make_synthetic_data(256, ModelConfig().input_shape, seed=4)
    raw = {name: values * 1000.0 + 50.0 for name, values in inputs.items()}
    raw[FIRST][:, 0] = 7.0  # a feature that never varies in training
    model = adapt(build_model(), as_data(raw, targets))
    for name, values in raw.items():
        normalize = model.get_layer(NORMALIZE[name])
        normalized = keras.ops.convert_to_numpy(normalize(values))
        np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-3)
        np.testing.assert_allclose(normalized[:, 1:].std(axis=0), 1.0, atol=1e-2)
    # Met later with another value, the constant feature is centred, not blown up.
    changed = raw[FIRST][:1].copy()
    changed[0, 0] = 8.0
    normalized = model.get_layer(NORMALIZE[FIRST])(changed)
    assert keras.ops.convert_to_numpy(normalized)[0, 0] == pytest.approx(1.0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    for reloaded_output, output in zip(
        keras_outputs(reloaded.predict(raw, verbose=0)),
        keras_outputs(model.predict(raw, verbose=0)),
        strict=True,
    ):
        np.testing.assert_allclose(reloaded_output, output, rtol=1e-5, atol=1e-6)


def keras_outputs(outputs):
    """A model's outputs as a list, whether it has one or several."""
    return list(outputs.values()) if isinstance(outputs, dict) else [outputs]


# The class names of a user's table: more classes than the built-in data's (the
# model takes the file's), in their sorted order.
CLASS_NAMES = {
    name: [f"kind {index}" for index in range(classes + 2)]
    for name, classes in TARGETS.items()
    if classes
}


def user_table(count, seed=1):
    """Built-in examples as a user's table: class names."""
    columns = table(count, seed)
    for name, names in CLASS_NAMES.items():
        columns[name] = np.array(names)[columns[name] + np.arange(count) % 3]
    return columns


def features(columns):
    """The model's inputs, stacked here from the columns named for each."""
    return {
        name: np.stack([columns[column] for column in names], axis=1)
        for name, names in COLUMNS.items()
    }


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A run trained a few steps on a user's table, whose validation and test files
    lie 100 away from its features; the run's directory and the table."""
    folder = tmp_path_factory.mktemp("trained")
    columns = user_table(400)
    held_out = {}
    for part, seed in [("validation", 2), ("test", 3)]:
        shifted = user_table(40, seed)
        for names in COLUMNS.values():
            for name in names:
                shifted[name] = shifted[name] + 100.0
        held_out[part] = str(write(shifted, folder / f"{part}.parquet"))
    config = TrainConfig(
        data_path=str(write(columns, folder / "data.parquet")),
        validation_path=held_out["validation"],
        test_path=held_out["test"],
        epochs=1,
        steps_per_epoch=4,
        output_dir=str(folder / "run"),
    )
    train(config)
    return folder / "run", columns


@pytest.mark.slow
def test_train_and_evaluate_from_a_table(trained_run, tmp_path):
    run, columns = trained_run
    schema = json.loads((run / "schema.json").read_text())
    assert sum(schema["widths"].values()) == len(columns) - len(TARGETS)
    metrics = json.loads((run / "metrics.json").read_text())
    path = run.parent / "data.parquet"
    assert set(evaluate(run, path, tmp_path / "plots")) == set(metrics)
    drawn = {
        name: f"{name}_confusion.png" if classes else f"{name}_predicted_vs_true.png"
        for name, classes in TARGETS.items()
    }
    assert (run / "learning_curves.png").is_file()
    for plot in drawn.values():
        assert (run / plot).is_file() and (tmp_path / "plots" / plot).is_file()
    for name in CLASSIFIED:
        assert schema["classes"][name] == CLASS_NAMES[name]
        outputs = keras.saving.load_model(run / "best.keras").outputs
        assert {output.shape[-1] for output in outputs} == {len(CLASS_NAMES[name])}


@pytest.mark.slow
def test_predict_reads_columns_by_name_and_classes_by_index(trained_run, tmp_path):
    run, columns = trained_run
    # A file of the feature columns only, in the reverse order of the training file's.
    names = [name for names in COLUMNS.values() for name in names][::-1]
    path = write({name: columns[name] for name in names}, tmp_path / "new.parquet")
    predictions = predict(run, path)
    model = keras.saving.load_model(run / "best.keras")
    outputs = as_targets(model.predict(features(columns), verbose=0))
    for name in TARGETS:
        values = np.asarray(outputs[name])
        if name in CLASSIFIED:
            # Output unit i is the class CLASS_NAMES[name][i]: sorted, as the schema.
            classes = np.array(CLASS_NAMES[name])
            expected = classes[values.argmax(axis=-1)]
            np.testing.assert_array_equal(predictions[name], expected)
            for index, label in enumerate(classes):
                probabilities = predictions[f"{name}_probability_{label}"]
                np.testing.assert_allclose(probabilities, values[:, index], atol=1e-6)
        else:
            np.testing.assert_allclose(predictions[name], values.reshape(-1), rtol=1e-5)


@pytest.mark.slow
def test_normalization_learns_the_training_split_only(trained_run):
    # The validation and test files lie 100 away: they must not move the statistics.
    run, columns = trained_run
    model = keras.saving.load_model(run / "best.keras")
    for name, values in features(columns).items():
        normalize = model.get_layer(NORMALIZE[name])
        normalized = keras.ops.convert_to_numpy(normalize(values))
        np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-3)
        np.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-2)


FEATURE = COLUMNS[FIRST][1]


def nan_feature(columns):
    columns[FEATURE][3] = np.nan
    return columns


def no_target(columns):
    del columns[next(iter(TARGETS))]
    return columns


def text_cell(text):
    """A column of numbers saved as text, one cell (row 3) of which is `text`."""

    def break_it(columns):
        columns[FEATURE] = columns[FEATURE].astype(str).astype(object)
        columns[FEATURE][3] = text
        return columns

    return break_it


def text_feature(values):
    """A text feature column of `values`."""

    def break_it(columns):
        columns[column(FIRST, "note")] = np.array(values, dtype=object)
        return columns

    return break_it


def empty_class(columns):
    name = CLASSIFIED[0]
    columns[name] = np.where(columns[name] % 2, "yes", "no").astype(object)
    columns[name][2] = ""
    return columns


@pytest.mark.parametrize(
    ("break_it", "suffix", "message"),
    [
        (nan_feature, ".csv", f"'{FEATURE}' has NaN or infinite values in 1"),
        (no_target, ".parquet", f"has no column '{next(iter(TARGETS))}'"),
        (no_target, ".csv", f"has no column '{next(iter(TARGETS))}'"),
        (lambda columns: columns, ".npy", "numpy.savez"),
        (lambda columns: {}, ".csv", "cannot read it as .csv"),
        (
            text_cell("abc"),
            ".csv",
            rf"'{FEATURE}' holds numbers but also text, in 1 rows: "
            r"'abc' \(first: row 3",
        ),
        (text_cell("40,5"), ".parquet", "'40,5' .*write numbers without commas"),
        (
            text_feature(["red", "", "blue"] * 32),
            ".csv",
            r"'.*note' is empty in 32 rows \(first: row 1",
        ),
        (
            text_feature([f"note {row}" for row in range(96)]),
            ".parquet",
            "'.*note' holds 96 different texts in 96 rows",
        ),
        (empty_class, ".csv", rf"'{CLASSIFIED[0]}' is empty in 1 rows \(first: row 2"),
    ],
    ids=[
        "nan",
        "no-target-parquet",
        "no-target-csv",
        "npy",
        "empty",
        "text-in-numbers",
        "decimal-comma",
        "empty-text",
        "free-text",
        "empty-class",
    ],
)
def test_bad_data_is_one_line_and_writes_nothing(
    tmp_path, capsys, break_it, suffix, message
):
    path = tmp_path / f"data{suffix}"
    if suffix == ".npy":
        np.save(path, np.zeros((4, 2)))
    else:
        write(break_it(table()), path)
    stops_train(path, message, tmp_path / "run", capsys)


def test_text_not_in_utf8_is_one_line(tmp_path, capsys):
    columns = table()
    columns[column(FIRST, "city")] = np.array(["Zürich", "Genève", "Köln"] * 32)
    path = write(columns, tmp_path / "latin1.csv")
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    message = r"'.*city' \(row 0: b'Z\\xfcrich'\) is not UTF-8 text; .* iconv"
    stops_train(path, message, tmp_path / "run", capsys)


def stops_train(path, message, run, capsys):
    """`path` stops load_splits with `message`, and `train` with that one line
    (exit status 2) before it writes anything to `run`."""
    with pytest.raises(DataError, match=message):
        load_splits(TrainConfig(data_path=str(path)))
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(path), "--output-dir", str(run)])
    assert exit_info.value.code == 2
    assert re.fullmatch(f"error: .*{message}.*\\n", capsys.readouterr().err)
    assert not run.exists()


def test_text_columns_of_many_values_are_refused_not_one_hot_encoded():
    cities = np.array([f"city {index % 30}" for index in range(4000)])
    assert len(category_names("data.csv", "city", cities, len(cities))) == 30
    # Half as many values as rows, but far too many features for one-hot codes.
    postcodes = np.array([f"code {index % 2000}" for index in range(4000)])
    with pytest.raises(DataError, match="2000 different texts in 4000 rows"):
        category_names("data.csv", "postcode", postcodes, len(postcodes))


def test_numbers_saved_as_text_are_numbers(tmp_path):
    columns = table()
    columns[FEATURE] = columns[FEATURE].astype(str).astype(object)
    path = write(columns, tmp_path / "text.parquet")
    schema = find_schema(path, {}, None, None)
    assert schema.categories == {}
    assert schema.widths == WIDTHS
    inputs, _, _ = read_examples(path, schema)
    np.testing.assert_allclose(inputs[FIRST][:, 1], table()[FEATURE], rtol=1e-6)


def test_labels_the_model_cannot_take_are_explained(tmp_path):
    name, classes = CLASSIFIED[0], TARGETS[CLASSIFIED[0]]
    path = write(table(), tmp_path / "data.csv")
    columns = table(seed=2)
    columns[name] = columns[name] + classes  # classes the training file lacks
    unseen = write(columns, tmp_path / "unseen.csv")
    with pytest.raises(DataError, match="not among the model's classes"):
        load_splits(TrainConfig(data_path=str(path), test_path=str(unseen)))
    columns[name] = np.full(96, "cat")
    path = write(columns, tmp_path / "one_class.csv")
    with pytest.raises(DataError, match="a single class"):
        load_splits(TrainConfig(data_path=str(path)))
    columns[name] = np.linspace(0, 1, 96)
    path = write(columns, tmp_path / "floats.csv")
    with pytest.raises(DataError, match="labels are integers"):
        load_splits(TrainConfig(data_path=str(path)))


def test_whole_floats_and_booleans_are_labels(tmp_path):
    name = CLASSIFIED[0]
    columns = table()
    columns[name] = columns[name].astype("float64")  # 0.0, 1.0, ...
    schema = find_schema(write(columns, tmp_path / "floats.parquet"), {}, None, None)
    assert schema.classes[name] == sorted(set(columns[name].astype(int).tolist()))
    columns[name] = columns[name] > 0
    path = write(columns, tmp_path / "booleans.parquet")
    schema = find_schema(path, {}, None, None)
    assert schema.classes[name] == [False, True]
    _, targets, _ = read_examples(path, schema)
    np.testing.assert_array_equal(targets[name].reshape(-1), columns[name])


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
