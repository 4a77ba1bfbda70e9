"""The gallery projects on real datasets, against plain baselines on the same split.

    pip install -e ".[bench]"   # scikit-learn and pandas: datasets and baselines
    python benchmarks/real_data.py

Each dataset ships inside scikit-learn (no download). It is split once, 80/20 and
stratified, into a train and a test file; the generated project trains with its
defaults on the train file (its validation split taken from it) and scores the test
file (`--test-data`); the baseline (StandardScaler, then the model) fits the same
train file and scores the same test file. Siamese: the baseline is the distance
between standardized raw features, its threshold chosen on the project's own
validation pairs, scored on the project's own test pairs.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

GALLERY = Path(__file__).resolve().parent.parent / "generated_examples"


def write_split(
    frame: pd.DataFrame, label: str | None, folder: Path, name: str, suffix: str
):
    """The train and test files of `frame`, split 80/20 (by `label`'s classes)."""
    train, test = train_test_split(
        frame,
        test_size=0.2,
        random_state=0,
        stratify=frame[label] if label else None,
    )
    paths = folder / f"{name}_train{suffix}", folder / f"{name}_test{suffix}"
    for part, path in zip((train, test), paths, strict=True):
        if suffix == ".csv":
            part.to_csv(path, index=False)
        else:
            part.to_parquet(path, index=False)
    return paths


def train(pattern: str, run: Path, train_file: Path, test_file: Path, *flags: str):
    """Train a gallery project with its defaults; its test metrics."""
    package = pattern.replace("-", "_")
    subprocess.run(
        [sys.executable, "-m", package, "train", "--data", str(train_file)]
        + ["--test-data", str(test_file), "--output-dir", str(run), *flags],
        cwd=GALLERY / pattern,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        check=True,
        capture_output=True,
    )
    return json.loads((run / "metrics.json").read_text())


def features(frame: pd.DataFrame, *targets: str) -> np.ndarray:
    return frame.drop(columns=list(targets)).to_numpy()


def logistic_regression(train_file: Path, test_file: Path, label: str) -> float:
    """Test accuracy of a standardized logistic regression on all other columns."""
    train_part, test_part = pd.read_csv(train_file), pd.read_csv(test_file)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    baseline.fit(features(train_part, label), train_part[label])
    return accuracy_score(
        test_part[label], baseline.predict(features(test_part, label))
    )


def cancer_by_input() -> pd.DataFrame:
    """Breast cancer cells: 30 measurements in three inputs of ten, `mean.radius`,
    `error.radius`, `worst.radius`, ...; the diagnosis by name."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns="target")
    renamed = {}
    for column in frame.columns:
        words = column.split(" ")
        if words[0] in ("mean", "worst"):
            renamed[column] = f"{words[0]}.{'_'.join(words[1:])}"
        else:  # "radius error"
            renamed[column] = f"error.{'_'.join(words[:-1])}"
    frame = frame.rename(columns=renamed)
    frame["diagnosis"] = np.array(data.target_names)[data.target]
    return frame


def digits_by_half(digits: pd.DataFrame) -> pd.DataFrame:
    """8x8 digits as two inputs of 32 pixels, `top.p00` ... and `bottom.p40` ..."""
    return digits.rename(
        columns={
            f"pixel_{row}_{col}": f"{'top' if row < 4 else 'bottom'}.p{row}{col}"
            for row in range(8)
            for col in range(8)
        }
    )


def siamese_baseline(train_file: Path, test_file: Path) -> tuple[float, float]:
    """Raw-distance pair accuracy and ROC AUC on the siamese project's own pairs."""
    sys.path.insert(0, str(GALLERY / "siamese"))
    from siamese.config import TrainConfig
    from siamese.data import load_splits

    config = TrainConfig(
        data_path=str(train_file), test_path=str(test_file), columns="label=digit"
    )
    train_items, validation, test, _ = load_splits(config)
    items = train_items[0]["items"]
    mean, std = items.mean(axis=0), items.std(axis=0)
    std[std == 0] = 1.0

    def distances(pairs):
        inputs, same = pairs
        left, right = ((inputs[side] - mean) / std for side in ("left", "right"))
        return np.linalg.norm(left - right, axis=1), same

    scores, same = distances(validation)
    cuts = np.sort(scores)
    threshold = cuts[np.argmax([((scores < cut) == same).mean() for cut in cuts])]
    scores, same = distances(test)
    return ((scores < threshold) == same).mean(), roc_auc_score(same, -scores)


def unicode_pairs() -> pd.DataFrame:
    """Characters of Python's Unicode database with a canonical decomposition: the
    name ("LATIN SMALL LETTER E WITH ACUTE") as the source, the names of its parts
    ("LATIN SMALL LETTER E COMBINING ACUTE ACCENT") as the target. Hangul and CJK
    are left out: their decompositions are tables to learn by heart, not rules."""
    pairs = []
    for code in range(sys.maxunicode + 1):
        name = unicodedata.name(chr(code), "")
        parts = unicodedata.decomposition(chr(code)).split()
        if not name or not parts or parts[0].startswith("<"):
            continue
        if name.startswith(("HANGUL", "CJK")):
            continue
        names = [unicodedata.name(chr(int(part, 16)), "") for part in parts]
        if all(names):
            pairs.append((name, " ".join(names)))
    return pd.DataFrame(pairs, columns=["source", "target"])


def decoding_scores(run: Path, test_file: Path, folder: Path) -> tuple[float, float]:
    """Exact-match rate and word accuracy of the encoder-decoder's greedy decodings
    of `test_file`, as text (a word outside its vocabulary is wrong)."""
    out = folder / "decoded.csv"
    subprocess.run(
        [sys.executable, "-m", "encoder_decoder", "predict", str(run)]
        + ["--data", str(test_file), "--out", str(out)],
        cwd=GALLERY / "encoder-decoder",
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        check=True,
        capture_output=True,
    )
    decoded = pd.read_csv(out, keep_default_na=False)["prediction"]
    return scores(decoded, pd.read_csv(test_file)["target"])


def scores(decoded, targets) -> tuple[float, float]:
    """The share of `decoded` texts equal to their target, and the mean share of
    words in the right place (over the longer of the two)."""
    exact, in_place = [], []
    for text, target in zip(decoded, targets, strict=True):
        text, target = as_read(text).split(), as_read(target).split()
        exact.append(text == target)
        hits = sum(a == b for a, b in zip(text, target, strict=False))
        in_place.append(hits / max(len(target), len(text)))
    return float(np.mean(exact)), float(np.mean(in_place))


def as_read(text: str) -> str:
    """Text as the encoder-decoder reads and writes it."""
    return " ".join(project_words()(text))


@functools.cache
def project_words():
    """The encoder-decoder project's own `words` (lowercased words and marks)."""
    sys.path.insert(0, str(GALLERY / "encoder-decoder"))
    from encoder_decoder.data import words

    return words


def nearest_neighbour(train_file: Path, test_file: Path) -> tuple[float, float]:
    """`scores` of copying the target of the most similar training source (cosine
    of word counts)."""
    train_part, test_part = pd.read_csv(train_file), pd.read_csv(test_file)
    vectorizer = CountVectorizer(token_pattern=r"[^\s]+", lowercase=True)
    known = vectorizer.fit_transform(train_part["source"])
    neighbours = NearestNeighbors(n_neighbors=1, metric="cosine").fit(known)
    _, index = neighbours.kneighbors(vectorizer.transform(test_part["source"]))
    return scores(train_part["target"].to_numpy()[index[:, 0]], test_part["target"])


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        iris = load_iris(as_frame=True).frame
        iris["species"] = np.array(load_iris().target_names)[iris.pop("target")]
        wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
        digits = load_digits(as_frame=True).frame.rename(columns={"target": "digit"})

        for name, frame, label in (
            ("iris", iris, "species"),
            ("wine", wine, "cultivar"),
        ):
            train_file, test_file = write_split(frame, label, folder, name, ".csv")
            ours = train(
                "parallel",
                folder / name,
                train_file,
                test_file,
                "--columns",
                f"label={label}",
            )
            score = logistic_regression(train_file, test_file, label)
            rows.append(
                (
                    "parallel",
                    name,
                    f"accuracy {ours['accuracy']:.4f}",
                    f"logistic regression {score:.4f}",
                )
            )

        cancer = cancer_by_input()
        train_file, test_file = write_split(
            cancer, "diagnosis", folder, "cancer", ".csv"
        )
        ours = train(
            "multi-input",
            folder / "cancer",
            train_file,
            test_file,
            "--columns",
            "label=diagnosis",
        )
        score = logistic_regression(train_file, test_file, "diagnosis")
        rows.append(
            (
                "multi-input",
                "breast cancer: mean, error, worst",
                f"accuracy {ours['accuracy']:.4f}",
                f"logistic regression {score:.4f}",
            )
        )

        train_file, test_file = write_split(
            digits_by_half(digits), "digit", folder, "halves", ".csv"
        )
        ours = train(
            "multi-input",
            folder / "halves",
            train_file,
            test_file,
            "--columns",
            "label=digit",
        )
        score = logistic_regression(train_file, test_file, "digit")
        rows.append(
            (
                "multi-input",
                "digits: top and bottom halves, 10 classes",
                f"accuracy {ours['accuracy']:.4f}",
                f"logistic regression {score:.4f}",
            )
        )

        train_file, test_file = write_split(wine, "cultivar", folder, "wine2", ".csv")
        ours = train(
            "multi-output",
            folder / "wine2",
            train_file,
            test_file,
            "--columns",
            "score=proline,category=cultivar",
        )
        train_part, test_part = pd.read_csv(train_file), pd.read_csv(test_file)
        x, x_test = (
            features(p, "proline", "cultivar") for p in (train_part, test_part)
        )
        regression = make_pipeline(StandardScaler(), LinearRegression())
        regression.fit(x, train_part["proline"])
        mae = mean_absolute_error(test_part["proline"], regression.predict(x_test))
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        classifier.fit(x, train_part["cultivar"])
        accuracy = accuracy_score(test_part["cultivar"], classifier.predict(x_test))
        rows.append(
            (
                "multi-output",
                "wine: proline, cultivar",
                f"MAE {ours['score_mae']:.1f}, "
                f"accuracy {ours['category_accuracy']:.4f}",
                f"linear regression MAE {mae:.1f}, logistic regression {accuracy:.4f}",
            )
        )

        train_file, test_file = write_split(
            digits, "digit", folder, "digits", ".parquet"
        )
        ours = train(
            "siamese",
            folder / "digits",
            train_file,
            test_file,
            "--columns",
            "label=digit",
        )
        accuracy, auc = siamese_baseline(train_file, test_file)
        rows.append(
            (
                "siamese",
                "digits, split by item",
                f"pair accuracy {ours['pair_accuracy']:.4f}, "
                f"ROC AUC {ours['roc_auc']:.4f}",
                f"raw distance {accuracy:.4f}, ROC AUC {auc:.4f}",
            )
        )

        unicode = unicode_pairs()
        train_file, test_file = write_split(unicode, None, folder, "unicode", ".csv")
        ours = train("encoder-decoder", folder / "unicode", train_file, test_file)
        exact, in_place = decoding_scores(folder / "unicode", test_file, folder)
        copied, copied_in_place = nearest_neighbour(train_file, test_file)
        rows.append(
            (
                "encoder-decoder",
                f"Unicode names to their decompositions ({len(unicode)} pairs)",
                f"exact match {exact:.4f}, words in place {in_place:.4f}",
                f"nearest neighbour's target: exact {copied:.4f}, "
                f"words in place {copied_in_place:.4f}",
            )
        )

    print("| pattern | data | generated project (defaults) | plain baseline |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
