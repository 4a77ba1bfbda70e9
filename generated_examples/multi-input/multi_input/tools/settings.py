"""The settings of a run from flags and TOML config files, for train and tune.

Every ModelConfig and TrainConfig field is a setting, but the ModelConfig fields
`train` takes from the data: a flag, and a key of its section in a config file:

    [model]
    activation = "gelu"

    [train]
    learning_rate = 0.001

A flag wins over the file, the file over the defaults in config.py. Each run writes
the settings it ran with to `config.toml` in its directory; `--config` repeats it.
That file's [project] section names the project that wrote it, for evaluate and
predict to check; `--config` skips it. Every value, from a flag, a file or a tuner,
goes through `check_value`, which says in one line what a setting takes.
"""

import argparse
import dataclasses
import difflib
import functools
import math
import numbers
import sys
import typing
from pathlib import Path

import tomli_w

from multi_input.config import ModelConfig, TrainConfig

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

SECTIONS = {"model": ModelConfig, "train": TrainConfig}
# The project whose runs evaluate and predict take, as a run's config.toml names it.
PROJECT = {
    "package": "multi_input",
    "pattern": "multi-input",
}
# What a setting of each type takes, in words and as values: numpy's numbers too
# (KerasTuner gives those), but not True or False.
KINDS = {
    int: ("an integer", numbers.Integral),
    float: ("a finite number", numbers.Real),
    str: ("a string", str),
}


class ConfigError(ValueError):
    """A setting that names no field, or gives a field a value it cannot take."""


def value_type(section: str, name: str) -> typing.Any:
    """The type of a field's values: `int` for an `int | None` field."""
    hint = typing.get_type_hints(SECTIONS[section])[name]
    return next((t for t in typing.get_args(hint) if t is not type(None)), hint)


def settable_fields(section: str) -> dict[str, dataclasses.Field]:
    """The settings of a section, by name: its fields of a type in KINDS, but those
    that `train` takes from the data."""
    return {
        field.name: field
        for field in dataclasses.fields(SECTIONS[section])
        if not field.metadata.get("from_data")
        and value_type(section, field.name) in KINDS
    }


def check_value(section: str, name: str, value: typing.Any) -> typing.Any:
    """`value` as the type of setting `section.name`, or a ConfigError that says
    what it takes: numbers are positive, or at least the field's `minimum`."""
    fields = settable_fields(section)
    if name not in fields:
        if name in {field.name for field in dataclasses.fields(SECTIONS[section])}:
            raise ConfigError(
                f"{section}.{name} comes from the data: no setting sets it"
            )
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(fields)
        raise ConfigError(f"{section} has no setting {name!r}; {hint}")
    kind = value_type(section, name)
    description, accepted = KINDS[kind]
    if isinstance(value, bool) or not isinstance(value, accepted):
        raise ConfigError(f"{section}.{name} takes {description}, not {value!r}")
    value = kind(value)
    choices = fields[name].metadata.get("choices")
    minimum = fields[name].metadata.get("minimum")
    if kind is float and not math.isfinite(value):
        needs = f"takes {description}"
    elif choices and value not in choices:
        needs = f"takes one of {', '.join(map(str, choices))}"
    elif kind is not str and minimum is None and value <= 0:
        needs = "must be positive"
    elif kind is not str and minimum is not None and value < minimum:
        needs = f"must be at least {minimum}"
    else:
        return value
    raise ConfigError(f"{section}.{name} {needs}, not {value!r}")


def read_flag(section: str, name: str, text: str) -> typing.Any:
    """A flag's text as the value of setting `section.name`, checked."""
    try:
        value = value_type(section, name)(text)
    except ValueError:
        value = text  # no number: check_value says what the setting takes
    try:
        return check_value(section, name, value)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """`--config` and a flag per setting, in a group per section."""
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
            options = field.metadata
            default = getattr(defaults, name)
            text = options.get("help", "")
            if default is not None:
                text += f" (default: {default})"
            group.add_argument(
                options.get("flag", "--" + name.replace("_", "-")),
                dest=f"{section}.{name}",
                type=functools.partial(read_flag, section, name),
                choices=options.get("choices"),
                metavar=None if "choices" in options else name.upper(),
                help=text.replace("%", "%%"),
                default=argparse.SUPPRESS,  # unset flags leave the file's value
            )


def read_toml(path: Path) -> dict[str, typing.Any]:
    """A TOML file's contents, or a ConfigError that says what is wrong with it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def read_settings(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """The configs of a run: defaults, then `--config`'s file, then the flags."""
    settings = {section: {} for section in SECTIONS}
    document = read_toml(args.config) if args.config else {}
    document.pop("project", None)  # for evaluate and predict: see write_config
    for section, values in document.items():
        try:
            if section not in SECTIONS or not isinstance(values, dict):
                raise ConfigError(
                    f"{section!r} is no section; a config file has [model] and [train]"
                )
            for name, value in values.items():
                settings[section][name] = check_value(section, name, value)
        except ConfigError as error:
            raise ConfigError(f"{args.config}: {error}") from None
    for key, value in vars(args).items():
        section, _, name = key.partition(".")
        if section in SECTIONS:
            settings[section][name] = value  # read_flag checked it
    return ModelConfig(**settings["model"]), TrainConfig(**settings["train"])


def write_config(
    path: Path, model_config: ModelConfig, config: TrainConfig, comment: str
) -> Path:
    """The settings of both configs as a TOML file that `--config` reads.

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
