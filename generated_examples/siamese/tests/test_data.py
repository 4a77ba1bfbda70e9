import json

import keras
import numpy as np
import pytest

from siamese.config import TrainConfig
from siamese.data import PairSampler, draw_pairs, load_splits, make_synthetic_items
from siamese.model import adapt, build_model, choose_threshold
from siamese.tools.evaluate import evaluate
from siamese.tools.pairs import training_batches
from siamese.tools.predict import predict
from siamese.tools.readers import DataError, split, write_file
from siamese.tools.schema import Schema, read_items, read_pairs
from siamese.train import main, train


def test_synthetic_items_cover_every_class(config):
    inputs, classes = make_synthetic_items(2000, config.input_shape, seed=0)
    assert inputs["items"].shape == (2000, *config.input_shape)
    assert set(np.unique(classes)) == set(range(8))


def test_partners_are_of_the_right_class_and_never_the_item_itself():
    classes = np.repeat(np.arange(6), [1, 2, 3, 5, 8, 13])
    anchors = np.tile(np.arange(len(classes)), 50)
    partners, same = PairSampler(classes).partners(anchors, np.random.default_rng(0))
    np.testing.assert_array_equal(same, classes[anchors] == classes[partners])
    assert (partners != anchors).all()
    # The single item of class 0 only ever gets a partner of another class.
    assert not same[classes[anchors] == 0].any()
    assert 0.45 < same.mean() < 0.55


def first_batches(stream, count: int) -> list:
    """The first `count` batches of a training stream, as numpy arrays."""
    if isinstance(stream, keras.utils.PyDataset):  # JAX and torch
        return [stream[index] for index in range(count)]
    return list(stream.take(count).as_numpy_iterator())  # a tf.data pipeline


def test_training_pairs_change_every_epoch_and_stay_balanced(config):
    items = make_synthetic_items(256, config.input_shape, seed=2)
    stream = training_batches(items, batch_size=64, seed=0)
    batches = first_batches(stream, 8)
    first, second = batches[:4], batches[4:]  # two passes over the items
    for (inputs, _), (again, _) in zip(first, second, strict=True):
        assert inputs["left"].shape == (64, *config.input_shape)
        assert not np.array_equal(inputs["right"], again["right"])
    labels = np.concatenate([same for _, same in batches])
    assert 0.4 < labels.mean() < 0.6
    # Each pass makes every item the left item of one pair.
    lefts = np.concatenate([inputs["left"] for inputs, _ in first])
    np.testing.assert_array_equal(
        np.unique(lefts, axis=0), np.unique(items[0]["items"], axis=0)
    )
    # A pair is "same" when its items are of one class, and never an item twice.
    index = {item.tobytes(): row for row, item in enumerate(items[0]["items"])}
    for inputs, same in batches:
        left, right = (
            np.array([index[item.tobytes()] for item in inputs[side]])
            for side in ("left", "right")
        )
        assert (left != right).all()
        np.testing.assert_array_equal(same, items[1][left] == items[1][right])
    # The same seed, the same pairs.
    again = first_batches(training_batches(items, batch_size=64, seed=0), 8)
    for (inputs, _), (repeated, _) in zip(batches, again, strict=True):
        np.testing.assert_array_equal(inputs["right"], repeated["right"])


# Vectors come in a table: one column per feature, and the class of each row.
SUFFIX = ".csv"
FEATURES = [f"x{index}" for index in range(6)]
FEATURE = "x2"


def item_table(count=240, classes=12, seed=3):
    """Labelled items as table columns: `x0`, `x1`, ... and a `person` name."""
    inputs, codes = make_synthetic_items(count, (6,), num_classes=classes, seed=seed)
    columns = {f"x{index}": column for index, column in enumerate(inputs["items"].T)}
    names = np.array([f"person {code}" for code in codes], dtype=object)
    return columns | {"person": names}


def features_of(columns):
    return np.stack([columns[f"x{index}"] for index in range(6)], axis=1)


def write(columns, path):
    """Write columns as the project writes files (by suffix); return the path."""
    write_file(columns, path)
    return path


@pytest.mark.parametrize("by", ["item", "class"])
def test_no_item_and_by_class_no_class_is_on_two_sides(tmp_path, by):
    columns = item_table()
    path = write(columns, tmp_path / f"items{SUFFIX}")
    config = TrainConfig(data_path=str(path), columns="label=person", split_by=by)
    train_items, validation_pairs, test_pairs, schema = load_splits(config)
    assert schema.input_shape == list(features_of(columns).shape[1:])
    rows = [row.tobytes() for row in features_of(columns)]
    person = dict(zip(rows, columns["person"], strict=True))
    trained = {row.tobytes() for row in train_items[0]["items"]}
    for inputs, _ in (validation_pairs, test_pairs):
        held_out = {row.tobytes() for side in inputs.values() for row in side}
        assert held_out and not held_out & trained
        if by == "class":
            held_out_people = {person[row] for row in held_out}
            assert not held_out_people & {person[row] for row in trained}


@pytest.mark.parametrize("classes", [6, 10])
def test_by_class_validation_and_test_hold_two_classes_or_more(tmp_path, classes):
    path = write(item_table(classes=classes), tmp_path / f"items{SUFFIX}")
    config = TrainConfig(data_path=str(path), columns="label=person", split_by="class")
    train_items, validation_pairs, test_pairs, _ = load_splits(config)
    # Two classes each for validation and test, the rest for training.
    assert len(np.unique(train_items[1])) == classes - 4
    for _, same in (validation_pairs, test_pairs):
        assert 0 < same.mean() < 1  # same and different pairs


def test_by_class_too_few_classes_is_one_line(tmp_path):
    path = write(item_table(classes=5), tmp_path / f"items{SUFFIX}")
    config = TrainConfig(data_path=str(path), columns="label=person", split_by="class")
    with pytest.raises(DataError, match="needs 6 classes.*the data has 5") as error:
        load_splits(config)
    assert "\n" not in str(error.value)


def test_pair_files_keep_their_labels_1_meaning_same(tmp_path):
    rng = np.random.default_rng(0)
    left = rng.normal(size=(6, 4)).astype("float32")
    label = np.array([1, 0, 0, 1, 1, 0])
    # Same pairs are an item and itself; different ones an item and another.
    right = np.where(label[:, None] == 1, left, rng.normal(size=(6, 4)))
    path = write({"left": left, "right": right, "label": label}, tmp_path / "p.npz")
    (inputs, same), _ = read_pairs(path, Schema(["left", "right"], "label", [4]))
    np.testing.assert_array_equal(same, label)
    np.testing.assert_array_equal((inputs["left"] == inputs["right"]).all(1), same == 1)


def test_pair_files_split_by_item_ids(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, size=(400, 2))
    features = rng.normal(size=(50, 6)).astype("float32")
    write(
        {
            "left": features[ids[:, 0]],
            "right": features[ids[:, 1]],
            "label": rng.integers(0, 2, size=400),
            "left_id": ids[:, 0],
            "right_id": ids[:, 1],
        },
        tmp_path / "pairs.npz",
    )
    config = TrainConfig(data_path=str(tmp_path / "pairs.npz"))
    parts = load_splits(config)[:3]
    sides = [
        {row.tobytes() for side in inputs.values() for row in side}
        for inputs, _ in parts
    ]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])


def test_the_threshold_is_the_one_that_calls_validation_pairs_best():
    class Scores:
        """A stand-in model whose predictions are the pairs' first feature."""

        def predict(self, inputs, **options):
            return inputs["left"][:, :1]

    scores = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.9], "float32")
    same = np.array([1, 0, 1, 1, 0, 0], "float32")
    # Below 0.55: five of six right, and no other cut does as well.
    expected = 0.55
    pairs = {"left": scores[:, None], "right": scores[:, None]}
    assert choose_threshold(Scores(), pairs, same) == pytest.approx(expected)


def test_the_saved_model_takes_raw_items(config, tmp_path):
    items = make_synthetic_items(128, config.input_shape, seed=4)
    raw = ({"items": items[0]["items"] * 255.0 + 10.0}, items[1])
    model = adapt(build_model(config), raw)
    pairs, _ = draw_pairs(raw, pairs_per_item=1)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        reloaded.predict(pairs, verbose=0),
        model.predict(pairs, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
    normalize = model.get_layer("encoder").get_layer("normalize")
    normalized = keras.ops.convert_to_numpy(normalize(raw[0]["items"]))
    assert abs(normalized.mean()) < 1e-3


@pytest.mark.slow
def test_train_evaluate_and_predict_from_a_file(config, tmp_path):
    path = write(item_table(), tmp_path / f"items{SUFFIX}")
    run = tmp_path / "run"
    settings = TrainConfig(
        data_path=str(path),
        columns="label=person",
        epochs=1,
        steps_per_epoch=4,
        output_dir=str(run),
    )
    results = train(settings)
    schema = Schema.load(run / "schema.json")
    assert schema.features == FEATURES
    # "Same" is what calls the run's validation pairs best, not its test pairs.
    validation_pairs = load_splits(settings)[1]
    model = keras.saving.load_model(run / "best.keras")
    threshold = choose_threshold(model, *validation_pairs)
    assert schema.threshold == pytest.approx(threshold, abs=1e-5)
    assert set(evaluate(run, path, tmp_path / "plots")) == set(results)
    assert (run / "learning_curves.png").is_file() and (run / "pairs.png").is_file()
    assert (tmp_path / "plots" / "pairs.png").is_file()
    embeddings = predict(run, path)
    assert len(embeddings) == config.embedding_dim
    assert all(len(values) == 240 for values in embeddings.values())
    assert json.loads((run / "metrics.json").read_text()) == results


def single_item_class(columns):
    columns["person"][0] = "nobody"
    return columns


def infinite_feature(columns):
    columns[FEATURE][5] = np.inf
    return columns


def one_class(columns):
    columns["person"] = np.array(["everyone"] * len(columns["person"]))
    return columns


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (single_item_class, "a single item of the classes 'nobody'"),
        (infinite_feature, f"'{FEATURE}' has NaN or infinite values in 1 rows"),
        (one_class, "one class only"),
    ],
    ids=["single-item-class", "infinite", "one-class"],
)
def test_bad_items_are_one_line_and_write_nothing(tmp_path, capsys, break_it, message):
    path = write(break_it(item_table()), tmp_path / f"items{SUFFIX}")
    with pytest.raises(DataError, match=message):
        load_splits(TrainConfig(data_path=str(path), columns="label=person"))
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["--data", str(path), "--columns", "label=person", "--output-dir", str(run)]
        )
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not run.exists()


def test_read_items_checks_the_shape(tmp_path):
    path = write(item_table(), tmp_path / f"items{SUFFIX}")
    schema = Schema([FEATURE], "person", [3])
    with pytest.raises(DataError, match="the model takes \\(3,\\)"):
        read_items(path, schema)


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
