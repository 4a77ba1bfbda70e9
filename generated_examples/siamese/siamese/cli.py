"""The settings of a run from flags and TOML config files, for train and tune.

Every ModelConfig and TrainConfig field is a flag and a config file key, but the
ModelConfig fields `train` takes from the data. A config file has a section each:

    [model]
    activation = "gelu"

    [train]
    learning_rate = 0.001

A flag wins over the file, the file over the defaults in config.py. Each run writes
the settings it ran with to `config.toml` in its directory; `--config` repeats it.
That file's [project] section names the project that wrote it, for evaluate and
predict to check; `--config` skips it.
"""

import argparse
import dataclasses
import datetime
import difflib
import math
import numbers
import sys
import typing
from pathlib import Path

import tomli_w

from siamese.config import ModelConfig, TrainConfig

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

SECTIONS = {"model": ModelConfig, "train": TrainConfig}
# The project whose runs evaluate and predict take, as a run's config.toml names it.
PROJECT = {
    "package": "siamese",
    "pattern": "siamese",
}
# What each type of field takes: numpy's numbers too (KerasTuner gives those).
KINDS = {
    int: ("an integer", numbers.Integral),
    float: ("a number", numbers.Real),
    str: ("a string", str),
}


class ConfigError(ValueError):
    """A setting that names no field, or gives a field a value it cannot take."""


def settable_fields(section: str) -> dict[str, dataclasses.Field]:
    """The fields of a section that flags and config files set, by name: numbers
    and strings, but those that `train` takes from the data."""
    return {
        field.name: field
        for field in dataclasses.fields(SECTIONS[section])
        if not field.metadata.get("from_data")
        and value_type(section, field.name) in KINDS
    }


def value_type(section: str, name: str) -> typing.Any:
    """The type of a field's values: `int` for an `int | None` field."""
    hint = typing.get_type_hints(SECTIONS[section])[name]
    return next((t for t in typing.get_args(hint) if t is not type(None)), hint)


def check_value(section: str, name: str, value: typing.Any) -> typing.Any:
    """`value` as the field's type, or a ConfigError that says what it takes."""
    field = settable_fields(section)[name]
    kind = value_type(section, name)
    description, accepted = KINDS[kind]
    if isinstance(value, bool) or not isinstance(value, accepted):
        raise ConfigError(f"{section}.{name} takes {description}, not {value!r}")
    value = kind(value)
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{section}.{name} takes a finite number, not {value!r}")
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(
            f"{section}.{name} takes one of {', '.join(map(str, choices))}, "
            f"not {value!r}"
        )
    minimum = field.metadata.get("minimum")
    if kind in (int, float) and minimum is None and value <= 0:
        raise ConfigError(f"{section}.{name} must be positive, not {value!r}")
    if kind in (int, float) and minimum is not None and value < minimum:
        raise ConfigError(f"{section}.{name} must be at least {minimum}, not {value!r}")
    return value


def unknown_key(section: str, name: str) -> ConfigError:
    """The error for a key that is no settable field of `section`."""
    if name in {field.name for field in dataclasses.fields(SECTIONS[section])}:
        return ConfigError(f"{section}.{name} comes from the data: no setting sets it")
    known = settable_fields(section)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(known)
    return ConfigError(f"{section} has no setting {name!r}; {hint}")


def read_toml(path: Path) -> dict[str, typing.Any]:
    """A TOML file's contents, or a ConfigError that says what is wrong with it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def read_config_file(path: Path) -> dict[str, dict[str, typing.Any]]:
    """The settings of a TOML config file, checked, by section."""
    document = read_toml(path)
    settings = {}
    for section, values in document.items():
        if section == "project":
            continue
        if section not in SECTIONS or not isinstance(values, dict):
            raise ConfigError(
                f"{path}: {section!r} is no section; a config file has [model] "
                "and [train]"
            )
        for name, value in values.items():
            if name not in settable_fields(section):
                raise ConfigError(f"{path}: {unknown_key(section, name)}")
            try:
                settings.setdefault(section, {})[name] = check_value(
                    section, name, value
                )
            except ConfigError as error:
                raise ConfigError(f"{path}: {error}") from None
    return settings


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """`--config` and a flag per settable field, in a group per section."""
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a TOML file of [model] and [train] settings; flags win over it",
    )
    for section, title in (("model", "model"), ("train", "training run")):
        group = parser.add_argument_group(f"{title} ({SECTIONS[section].__name__})")
        defaults = SECTIONS[section]()
        for name, field in settable_fields(section).items():
            options = dict(field.metadata)
            flag = options.pop("flag", "--" + name.replace("_", "-"))
            options.pop("minimum", None)
            if "choices" not in options:
                options["metavar"] = name.upper()
            default = getattr(defaults, name)
            if default is not None:
                options["help"] = f"{options.get('help', '')} (default: {default})"
            options["help"] = options.get("help", "").replace("%", "%%")
            group.add_argument(
                flag,
                dest=f"{section}.{name}",
                type=value_type(section, name),
                default=argparse.SUPPRESS,  # unset flags leave the file's value
                **options,
            )


def read_settings(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """The configs of a run: defaults, then `--config`'s file, then the flags."""
    settings = read_config_file(args.config) if args.config else {}
    for key, value in vars(args).items():
        section, _, name = key.partition(".")
        if section in SECTIONS:
            flag = "--" + name.replace("_", "-")
            try:
                value = check_value(section, name, value)
            except ConfigError as error:
                raise ConfigError(f"{flag}: {error}") from None
            settings.setdefault(section, {})[name] = value
    return ModelConfig(**settings.get("model", {})), TrainConfig(
        **settings.get("train", {})
    )


def write_config(
    path: Path, model_config: ModelConfig, config: TrainConfig, comment: str
) -> Path:
    """The settable fields of both configs as a TOML file that `--config` reads.

    Unset fields (None) are left out, as TOML has no null, and so is the output
    directory: a run repeated from the file gets a directory of its own.
    """
    document = {"project": PROJECT} | {
        section: {
            name: getattr(instance, name)
            for name in settable_fields(section)
            if getattr(instance, name) is not None and name != "output_dir"
        }
        for section, instance in (("model", model_config), ("train", config))
    }
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    Path(path).write_text(header + "\n" + tomli_w.dumps(document), encoding="utf-8")
    return Path(path)


def new_run_dir(root: str = "runs") -> str:
    """A fresh directory name under `root`, from the date and time."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    path, count = Path(root) / stamp, 1
    while path.exists():
        count += 1
        path = Path(root) / f"{stamp}-{count}"
    return str(path)
