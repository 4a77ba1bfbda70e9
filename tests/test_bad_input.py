"""Bad input: one line naming the problem and the fix, exit 2, nothing written.

Each case runs the real entry point (`kgen.cli.run`, what the `kgen` script calls)
in a scratch working directory, and checks the exit status, the message, that it is
a single `error:` line without a traceback, and that the directory is untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from kgen.cli import run

NEW = ["new"]
CASES: list[tuple[str, list[str], str]] = [
    # name, arguments, expected part of the message
    (
        "unknown pattern",
        [*NEW, "siames"],
        "unknown pattern 'siames'; did you mean 'siamese'?",
    ),
    ("unknown pattern, no match", [*NEW, "resnet"], "see `kgen patterns`"),
    ("no pattern", [*NEW], "Missing argument"),
    ("unknown command", ["frobnicate"], "No such command 'frobnicate'"),
    (
        "unknown flag",
        [*NEW, "parallel", "--brnaches", "3"],
        "No such option: --brnaches",
    ),
    (
        "zero branches",
        [*NEW, "parallel", "--branches", "0"],
        "--branches 0 must be between 1 and 32",
    ),
    (
        "negative branches",
        [*NEW, "parallel", "--branches", "-2"],
        "--branches -2 must be between 1 and 32",
    ),
    (
        "non-integer branches",
        [*NEW, "parallel", "--branches", "2.5"],
        "Invalid value for '--branches'",
    ),
    (
        "too many branches",
        [*NEW, "parallel", "--branches", "33"],
        "--branches 33 must be between 1 and 32",
    ),
    (
        "subtract needs two",
        [*NEW, "parallel", "--branches", "3", "--merge", "subtract"],
        "takes exactly 2 branches, not 3",
    ),
    (
        "unknown merge",
        [*NEW, "parallel", "--merge", "sum"],
        "Invalid value for '--merge'",
    ),
    (
        "loss that does not fit",
        [*NEW, "parallel", "--loss", "contrastive"],
        "--loss does not apply",
    ),
    (
        "unknown loss",
        [*NEW, "siamese", "--loss", "hinge"],
        "Invalid value for '--loss'",
    ),
    (
        "option for another loss",
        [*NEW, "siamese", "--loss", "binary_crossentropy", "--margin", "2"],
        "--margin does not apply",
    ),
    (
        "malformed shape",
        [*NEW, "siamese", "--input-shape", "28x28"],
        "--input-shape '28x28' must be",
    ),
    (
        "non-numeric shape",
        [*NEW, "siamese", "--input-shape", "abc"],
        "--input-shape 'abc' must be",
    ),
    (
        "image for a vector pattern",
        [*NEW, "parallel", "--input-shape", "28x28x1"],
        "takes vectors",
    ),
    (
        "unknown head kind (metric)",
        [*NEW, "multi-output", "--heads", "a:ranking,b:regression"],
        "must be 2 to 8 heads",
    ),
    (
        "duplicate output names",
        [*NEW, "multi-output", "--heads", "a:regression,a:regression"],
        "names a head twice",
    ),
    (
        "output name not an identifier",
        [*NEW, "multi-output", "--heads", "1a:regression,b:regression"],
        "must be 2 to 8 heads",
    ),
    (
        "reserved output name",
        [*NEW, "multi-output", "--heads", "features:regression,b:regression"],
        "reserved name",
    ),
    (
        "one-class head",
        [*NEW, "multi-output", "--heads", "a:classification:1,b:regression"],
        "2 or more classes",
    ),
    (
        "loss weight for no head",
        [*NEW, "multi-output", "--loss-weights", "nope=2"],
        "names no head (nope)",
    ),
    (
        "malformed loss weight",
        [*NEW, "multi-output", "--loss-weights", "score"],
        "must be NAME=WEIGHT pairs such as score=0.5, not 'score'",
    ),
    (
        "loss weight not a number",
        [*NEW, "multi-output", "--loss-weights", "score=abc"],
        "a loss weight is a number from 0 to 999999",
    ),
    (
        "negative loss weight",
        [*NEW, "multi-output", "--loss-weights", "score=-1"],
        "gives a weight of '-1'; a loss weight is a number from 0 to 999999",
    ),
    (
        "NaN loss weight",
        [*NEW, "multi-output", "--loss-weights", "category=nan"],
        "gives a weight of 'nan'",
    ),
    (
        "head named like Keras's validation logs",
        [*NEW, "multi-output", "--heads", "val:regression,b:classification:2"],
        "names a head 'val', which clashes with the names Keras logs",
    ),
    (
        "head named val_ something",
        [*NEW, "multi-output", "--heads", "a:regression,val_a:regression"],
        "rename that head, e.g. head_val_a",
    ),
    (
        "head named loss",
        [*NEW, "multi-output", "--heads", "loss:regression,b:regression"],
        "names a head 'loss'",
    ),
    ("project name", [*NEW, "siamese", "--project-name", "9 lives!"], "e.g. 'lives'"),
    (
        "package name",
        [*NEW, "siamese", "--package-name", "My-Model"],
        "lowercase Python identifier",
    ),
    (
        "keyword package",
        [*NEW, "siamese", "--package-name", "class"],
        "is a Python keyword",
    ),
    (
        "shadowing package",
        [*NEW, "siamese", "--project-name", "keras"],
        "would shadow the 'keras' module",
    ),
    (
        "multi-line description",
        [*NEW, "siamese", "--description", "one\ntwo"],
        "must be a single line",
    ),
    (
        "multi-line author",
        [*NEW, "siamese", "--author", "A\r\nB"],
        "must be a single line",
    ),
    (
        "control character",
        [*NEW, "siamese", "--author", "A\x1b[31mB"],
        "no control characters",
    ),
    (
        "long description",
        [*NEW, "siamese", "--description", "x" * 201],
        "at most 200 characters",
    ),
    (
        "zero epochs",
        [*NEW, "siamese", "--epochs", "0"],
        "--epochs 0 must be at least 1",
    ),
    (
        "learning rate",
        [*NEW, "siamese", "--learning-rate", "0"],
        "must be between 0 and 1",
    ),
    (
        "not a number",
        [*NEW, "siamese", "--learning-rate", "nan"],
        "must be a finite number",
    ),
    (
        "infinite scale",
        [*NEW, "siamese", "--output-transform", "scale_shift", "--output-scale", "inf"],
        "must be a finite number",
    ),
    (
        "clip bounds",
        [
            *NEW,
            "siamese",
            "--output-transform",
            "clip",
            "--clip-min",
            "1",
            "--clip-max",
            "0",
        ],
        "must be above --clip-min",
    ),
    (
        "transform of class probabilities",
        [*NEW, "parallel", "--output-transform", "scale_shift"],
        "--output-transform does not apply to the parallel pattern",
    ),
    (
        "transform of classification heads",
        [
            *NEW,
            "multi-output",
            "--heads",
            "a:classification:2,b:classification:3",
            "--output-transform",
            "log",
        ],
        "--output-transform 'log' applies to regression outputs only, and this model "
        "outputs class probabilities only; keep none",
    ),
    (
        "transform of a probability",
        [
            *NEW,
            "siamese",
            "--loss",
            "binary_crossentropy",
            "--output-transform",
            "clip",
        ],
        "applies to regression outputs only",
    ),
    (
        "log epsilon",
        [*NEW, "siamese", "--output-transform", "log", "--log-epsilon", "0"],
        "must be positive",
    ),
    (
        "one input width",
        [*NEW, "multi-input", "--input-widths", "10"],
        "must be 2 to 16",
    ),
    (
        "unsplittable shared input",
        [*NEW, "parallel", "--branches", "3", "--shared-weights"],
        "does not divide by 3",
    ),
    (
        "tiny vocabulary",
        [*NEW, "encoder-decoder", "--vocab-size", "2"],
        "must be between 6 and 100000",
    ),
    ("malformed --set", [*NEW, "siamese", "--set", "margin"], "is not KEY=VALUE"),
    (
        "--set twice",
        [*NEW, "parallel", "--set", "branches=3", "--branches", "3"],
        "branches is given twice",
    ),
    (
        "--set unknown key",
        [*NEW, "siamese", "--set", "colour=red"],
        "unknown question 'colour'",
    ),
    (
        "--set misspelt key",
        [*NEW, "parallel", "--set", "brnches=3"],
        "unknown question 'brnches'; did you mean 'branches'? the parallel pattern "
        "asks: activation, author,",
    ),
    (
        "missing template",
        [*NEW, "mlp", "--template", "no/such/dir"],
        "template no/such/dir does not exist; pass a directory, a git URL or a git "
        "bundle, optionally @REF (kgen's own older releases: --template "
        "~/.kgen/templates/keras.bundle@v",
    ),
    (
        "release kgen never made",
        [*NEW, "siamese", "--template", "~/.kgen/templates/keras.bundle@v0.0.7"],
        "kgen's template has no release 'v0.0.7'; the releases are ",
    ),
    (
        "ref of a plain directory",
        [*NEW, "mlp", "--template", "{plain}@v1"],
        "is not a git repository, so it has no ref 'v1'",
    ),
    (
        "not a copier template",
        [*NEW, "mlp", "--template", "{empty}"],
        "is not a copier template (no copier.yml)",
    ),
    (
        "broken template YAML",
        [*NEW, "mlp", "--template", "{bad_yaml}"],
        "is not valid YAML at line",
    ),
    (
        "unreadable template",
        [*NEW, "mlp", "--template", "{latin1}"],
        "cannot read",
    ),
    (
        "broken template Jinja",
        [*NEW, "mlp", "--template", "{bad_jinja}"],
        "failed to render (TemplateSyntaxError",
    ),
    (
        "template without pattern",
        [*NEW, "mlp", "--template", "{no_pattern}"],
        "has no `pattern` question",
    ),
    ("check a non-project", ["check", "{empty}"], "has no .copier-answers.yml"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working directory holding a few broken templates."""
    templates = tmp_path / "templates"
    (templates / "empty").mkdir(parents=True)
    files = {
        "plain/copier.yml": "pattern: mlp\n",
        "bad_yaml/copier.yml": "pattern: [mlp\n",
        "latin1/copier.yml": "pattern: caf\xe9\n",
        "bad_jinja/copier.yml": "pattern: mlp\n",
        "bad_jinja/README.md.jinja": "{% if pattern %}unclosed\n",
        "no_pattern/copier.yml": "width: 8\n",
    }
    for name, text in files.items():
        (templates / name).parent.mkdir(parents=True, exist_ok=True)
        encoding = "latin-1" if name.startswith("latin1") else "utf-8"
        (templates / name).write_text(text, encoding=encoding)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def snapshot(root: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (str(path.relative_to(root)), path.read_bytes() if path.is_file() else b"")
        for path in root.rglob("*")
    )


def run_kgen(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


@pytest.mark.parametrize(
    ("args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    templates = workdir.parent / "templates"
    args = [arg.format(**{p.name: p for p in templates.iterdir()}) for arg in args]
    if args[0] == "new" and len(args) > 1:
        args[2:2] = ["demo", "--yes", "--no-smoke"]
    before = snapshot(workdir.parent)
    code, output = run_kgen(args, capsys)
    assert code == 2, output
    assert message in output
    assert output.startswith("error: ") and output.count("\n") == 1, output
    assert "Traceback" not in output
    assert "pattern_modules" not in output  # computed, never asked
    assert snapshot(workdir.parent) == before


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 30
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("file", "exists and is a file"),
        (
            "non-empty",
            "exists and is not empty; choose a new directory, or pass --force",
        ),
        ("install", "is inside kgen's own installation"),
    ],
)
def test_bad_destination(
    workdir: Path, capsys: pytest.CaptureFixture[str], prepare: str, message: str
) -> None:
    dest = workdir / "demo"
    if prepare == "file":
        dest.write_text("mine")
    elif prepare == "non-empty":
        dest.mkdir()
        (dest / "notes.txt").write_text("mine")
    else:
        dest = ROOT / "templates" / "keras" / "demo"
    before = snapshot(workdir)
    code, output = run_kgen(["new", "siamese", str(dest), "-y", "--no-smoke"], capsys)
    assert code == 2 and message in output, output
    assert output.count("\n") == 1
    assert snapshot(workdir) == before
    assert not (ROOT / "templates" / "keras" / "demo").exists()


def test_force_keeps_files_the_template_does_not_produce(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = workdir / "demo"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    (dest / "README.md").write_text("old readme")
    code, output = run_kgen(
        ["new", "siamese", str(dest), "-y", "--no-smoke", "--force"], capsys
    )
    assert code == 0, output
    assert (dest / "notes.txt").read_text() == "mine"
    assert (dest / "README.md").read_text() != "old readme"  # the template's file
    assert (dest / "demo" / "model.py").is_file()
    assert [p.name for p in workdir.iterdir()] == ["demo"]  # no staging left behind


def test_run_without_arguments_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_kgen([], capsys)
    assert code == 0
    assert "Usage: kgen" in output and "new" in output
