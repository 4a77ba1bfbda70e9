"""Rendering through copier: the files produced, their content, and their quality."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import itertools
import re
import subprocess
import sys
from pathlib import Path

import black
import pytest
import tomllib
import yaml
from conftest import PATTERNS, RenderProject

from kgen.formatting import black_mode
from kgen.store import BUNDLE_SOURCE, template_tag

INPUT_SHAPES = ["32", "12x12x3"]
DISTANCES = ["l1", "euclidean", "cosine"]
LOSSES = ["contrastive", "binary_crossentropy"]
VARIANTS = (
    [
        ("--input-shape", shape, "--distance", distance, "--loss", loss)
        for shape, distance, loss in itertools.product(INPUT_SHAPES, DISTANCES, LOSSES)
    ]
    + [
        ("parallel", "--branches", branches, "--merge", merge)
        for branches, merge in itertools.product(
            ["2", "3"],
            ["concat", "add", "multiply", "average", "maximum", "weighted_average"],
        )
    ]
    + [
        ("parallel", "--branches", "1"),
        ("parallel", "--merge", "subtract"),
        ("multi-input",),
        ("multi-input", "--input-widths", "3,7,12,1"),
        # The longest names the template accepts still give lines black and ruff accept.
        ("--package-name", "p" * 40, "--loss", "contrastive"),
        ("parallel", "--package-name", "p" * 40, "--merge", "weighted_average"),
        ("multi-input", "--package-name", "p" * 40),
        ("multi-output",),
        ("encoder-decoder",),
        ("--output-transform", "log"),
        (
            "multi-output",
            "--output-transform",
            "clip",
            "--clip-min",
            "-2",
            "--clip-max",
            "2",
        ),
        ("multi-output", "--output-transform", "scale_shift", "--output-shift", "-3"),
        ("multi-output", "--scale-out", "--package-name", "p" * 40),
        ("siamese", "--scale-out", "--input-shape", "12x12x3"),
        ("encoder-decoder", "--cell", "gru", "--package-name", "p" * 40),
        (
            "multi-output",
            "--heads",
            "department:classification:4,urgent:classification:2,cost:regression",
            "--loss-weights",
            "cost=0.5,urgent=2",
        ),
        (
            "parallel",
            "--branches",
            "3",
            "--branch-outputs",
            "--shared-weights",
            "--input-shape",
            "33",
        ),
        (
            "multi-output",
            "--heads",
            "a:classification:2,b:regression,c:regression,d:classification:5",
            "--output-transform",
            "scale_shift",
        ),
    ]
)
COMMON_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "demo/__init__.py",
    "demo/__main__.py",
    "demo/config.py",
    "demo/data.py",
    "demo/model.py",
    "demo/train.py",
    "demo/tools/__init__.py",
    "demo/tools/batches.py",
    "demo/tools/plots.py",
    "demo/tools/readers.py",
    "demo/tools/runs.py",
    "demo/tools/settings.py",
    "demo/tools/training.py",
    "demo/tools/tune.py",
    "tests/conftest.py",
    "tests/test_batches.py",
    "tests/test_data.py",
    "tests/test_experiments.py",
    "tests/test_gradients.py",
    "tests/test_model.py",
    "tests/test_plots.py",
    "tests/test_saving.py",
    "tests/test_training.py",
}


def files_of(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}


# Every pattern reads files: its schema, evaluate and predict.
READERS = {"schema", "evaluate", "predict"}
# The patterns whose data is tables (or text pairs, or items as vectors) also
# stream them from disk.
STREAMS = {*READERS, "streaming"}
# The custom objects are part of the story, on top of the package; the rest, tools/.
STORY = {"layers", "losses", "metrics"}


@pytest.mark.parametrize(
    ("flags", "extra"),
    [
        (("--loss", "contrastive"), {"layers", "losses", "metrics", "pairs", *STREAMS}),
        (("--loss", "binary_crossentropy"), {"layers", "pairs", *STREAMS}),
        # Images that can come as a folder of files: read per batch when big.
        (
            ("--input-shape", "28x28x1"),
            {"layers", "losses", "metrics", "pairs", "images", *READERS},
        ),
        (
            ("--input-shape", "8x8x2"),
            {"layers", "losses", "metrics", "pairs", *READERS},
        ),
        (("parallel",), STREAMS),
        (("parallel", "--merge", "weighted_average"), {"layers", *STREAMS}),
        (("parallel", "--shared-weights", "--branches", "4"), {"layers", *STREAMS}),
        (("multi-input",), STREAMS),
        (("multi-output",), STREAMS),
        (("encoder-decoder",), STREAMS),
        (("multi-output", "--output-transform", "log"), {"layers", *STREAMS}),
        (("multi-output", "--output-transform", "scale_shift"), STREAMS),
        (("encoder-decoder", "--scale-out"), {"distribute", *STREAMS}),
        (
            ("parallel", "--scale-out", "--merge", "weighted_average"),
            {"layers", *STREAMS},
        ),
    ],
)
def test_exact_file_set(render_project: RenderProject, flags, extra) -> None:
    expected = COMMON_FILES | {
        f"demo/{name}.py" if name in STORY else f"demo/tools/{name}.py"
        for name in extra
    }
    if "--output-transform" in flags:
        expected.add("tests/test_serving.py")
    if "streaming" in extra:
        expected.add("tests/test_streaming.py")
    if "images" in extra:
        expected.add("tests/test_images.py")
    if "--scale-out" in flags:  # multi-device training: its module and tests
        expected |= {"demo/tools/distribute.py", "tests/test_scaling.py"}
    assert files_of(render_project(*flags)) == expected


@pytest.mark.parametrize(
    "flags",
    [
        *[(pattern,) for pattern in PATTERNS],
        ("--loss", "binary_crossentropy"),
        ("multi-output", "--output-transform", "log"),
        ("parallel", "--scale-out", "--merge", "weighted_average"),
    ],
    ids="-".join,
)
def test_readme_layout_lists_every_module(render_project: RenderProject, flags) -> None:
    """The README's Layout lists each module of the package, and no other, in two
    groups: the story (config, model and its custom objects, data, train, in
    reading order, on top of the package) and the machinery (the rest)."""
    project = render_project(*flags)
    readme = (project / "README.md").read_text(encoding="utf-8")
    layout = readme.partition("\n## Layout\n")[2].partition("\n## ")[0]
    story, _, machinery = layout.partition("\nThe machinery:\n")
    assert "The story, in reading order:" in story

    def listed(table: str) -> list[str]:
        return re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)

    modules = {path.relative_to(project).as_posix() for path in project.rglob("*.py")}
    package = {name for name in modules if name.startswith("demo/")}
    assert (set(listed(story)) | set(listed(machinery))) - {"tests/"} == package
    names = [name.removeprefix("demo/").removesuffix(".py") for name in listed(story)]
    custom = [name for name in ("layers", "losses", "metrics") if name in names]
    assert names == ["config", "model", *custom, "data", "train"]
    assert all(
        name.startswith("demo/tools/") or name.count("/") == 1 for name in package
    )
    for link in re.findall(r"\]\((demo/[^)]+)\)", readme):
        assert (project / link).is_file(), link


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_story_is_short(render_project: RenderProject, pattern) -> None:
    """A default project's story (what the README's Layout lists first) is at most
    700 lines: a reader finds the model, the data and the training run at once."""
    project = render_project(pattern)
    readme = (project / "README.md").read_text(encoding="utf-8")
    story = readme.partition("The story, in reading order:")[2].partition(
        "The machinery:"
    )[0]
    files = re.findall(r"^\| `([^`]+)` \|", story, flags=re.MULTILINE)
    lines = sum(len((project / name).read_text().splitlines()) for name in files)
    assert lines <= 700, (pattern, lines)


def package_imports(path: Path) -> set[str]:
    """The modules of the package `demo` that a Python file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("demo"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found |= {
                alias.name for alias in node.names if alias.name.startswith("demo")
            }
    return found


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_story_is_layered_alike_in_every_pattern(
    render_project: RenderProject, pattern
) -> None:
    """config <- model, config <- data, both <- train: model.py and data.py never
    import each other; the readers import nothing of the package but its config."""
    package = render_project(pattern) / "demo"
    assert not {"demo.data"} & package_imports(package / "model.py")
    assert not {"demo.model", "demo.train"} & package_imports(package / "data.py")
    assert package_imports(package / "tools" / "readers.py") <= {
        "demo.config",
        "demo.config.ModelConfig",
    }
    assert {"demo.data", "demo.model"} <= package_imports(package / "train.py")


# "a" before a vowel sound ("a one-step decoder" and "a user" are right).
WRONG_ARTICLE = re.compile(r"\b[Aa] (?:[aeiAEI]|[oO](?!ne))[\w-]*")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_prose_and_code_fit_the_pattern(render_project: RenderProject, pattern) -> None:
    """No "A encoder-decoder" in the prose; no comment or code copied from another
    pattern (a siamese remark in every test_training.py)."""
    project = render_project(pattern)
    for name in ["README.md", "pyproject.toml"]:
        text = (project / name).read_text(encoding="utf-8")
        assert not WRONG_ARTICLE.findall(text), (name, WRONG_ARTICLE.findall(text))
    others = [other for other in PATTERNS if other != pattern]
    for path in project.rglob("*.py"):
        text = path.read_text(encoding="utf-8").lower()
        for other in others:
            found = re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", text)
            assert found is None, f"{path.name} names the {other} pattern"


@pytest.mark.parametrize("flags", VARIANTS, ids="-".join)
def test_output_is_clean_python(render_project: RenderProject, flags) -> None:
    project = render_project(*flags)
    mode = black_mode(project)
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for marker in ("{{", "}}", "{%", "%}", "{#", "#}"):
            assert marker not in text, f"template leftover {marker} in {path}"
        assert not path.name.endswith(".jinja")
        if path.suffix == ".py":
            ast.parse(text)
            with pytest.raises(black.NothingChanged):  # black-stable
                black.format_file_contents(text, fast=False, mode=mode)
            assert "\n\n\n\n" not in text
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout


def config_defaults(project: Path, name: str) -> dict:
    """The field defaults of the dataclass `name` in the project's config.py."""
    spec = importlib.util.spec_from_file_location(
        f"config_{id(project)}", project / "demo" / "config.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # dataclasses only: nothing heavy
    return {
        field.name: field.default for field in dataclasses.fields(getattr(module, name))
    }


def test_answers_reach_the_config(render_project: RenderProject) -> None:
    project = render_project(
        "--input-shape", "28x28x1", "--encoder-depth", "3", "--margin", "2.5"
    )
    assert config_defaults(project, "ModelConfig") == {
        "input_shape": (28, 28, 1),
        "encoder_depth": 3,
        "encoder_width": 64,
        "embedding_dim": 16,
    }
    assert config_defaults(project, "TrainConfig")["margin"] == 2.5
    assert "Conv2D" in (project / "demo" / "model.py").read_text()


def test_pattern_presets_reach_the_config(render_project: RenderProject) -> None:
    train = config_defaults(render_project("parallel"), "TrainConfig")
    assert train["learning_rate"] == 0.003
    assert "margin" not in train
    assert config_defaults(render_project(), "TrainConfig")["learning_rate"] == 0.001


def test_answers_file_records_every_answer(render_project: RenderProject) -> None:
    project = render_project("--distance", "cosine", "--epochs", "7")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    # The template store and this version's tag, for `kgen update`.
    assert answers["_src_path"] == BUNDLE_SOURCE
    assert answers["_commit"] == template_tag()
    assert answers["pattern"] == "siamese"
    assert answers["project_name"] == "demo"
    assert answers["package_name"] == "demo"
    assert answers["distance"] == "cosine"
    assert answers["epochs"] == 7
    assert answers["margin"] == 1.0


def test_free_text_lands_escaped(render_project: RenderProject) -> None:
    text = 'Pairs of "quoted" \\ back\\slashes, {{ braces }} and ünïcode'
    project = render_project("--description", text, "--author", 'O\'Brien "Bob"')
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == text
    assert pyproject["project"]["authors"] == [{"name": 'O\'Brien "Bob"'}]
    assert text in (project / "README.md").read_text()


def test_the_generated_pyproject_is_complete(render_project: RenderProject) -> None:
    pyproject = tomllib.loads((render_project() / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "demo"
    assert "authors" not in pyproject["project"]
    assert any(dep.startswith("keras") for dep in pyproject["project"]["dependencies"])
    extras = pyproject["project"]["optional-dependencies"]
    backends = {"tensorflow", "jax", "torch"}
    assert set(extras) == {*backends, "tensorflow-cuda", "jax-cuda", "dev"}
    # One extra per backend: none is installed unless picked.
    names = [
        re.split(r"[^\w-]", dep)[0] for dep in pyproject["project"]["dependencies"]
    ]
    # The siamese project reads tables (pyarrow), draws plots (matplotlib), searches
    # hyperparameters (keras-tuner, and six, which it imports without requiring) and
    # reads and writes settings (tomli, tomli-w).
    assert names == [
        "keras",
        "keras-tuner",
        "matplotlib",
        "numpy",
        "pyarrow",
        "six",
        "tomli",
        "tomli-w",
    ]
    for backend in backends:
        assert any(dep.startswith(backend) for dep in extras[backend]), extras[backend]
    assert pyproject["tool"]["setuptools"]["packages"] == ["demo", "demo.tools"]
    assert pyproject["tool"]["pytest"]["ini_options"]["pythonpath"] == ["."]
