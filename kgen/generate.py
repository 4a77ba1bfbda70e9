"""Render a project with copier, format it, and move it into place in one step."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kgen.errors import KgenError
from kgen.formatting import format_tree


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_destination(dest: Path) -> None:
    """Refuse a destination that holds anything: kgen never overwrites user files."""
    if dest.exists() and not dest.is_dir():
        raise KgenError(f"{dest} exists and is a file; choose another destination")
    if dest.is_dir() and any(dest.iterdir()):
        raise KgenError(f"{dest} exists and is not empty; choose a new directory")


def render(template: Path, dest: Path, answers: Mapping[str, Any]) -> Path:
    """Render `template` with `answers` into the new directory `dest`, formatted.

    Everything happens in a staging directory beside `dest`, which is renamed into
    place only once rendering and formatting succeeded: a failure (or Ctrl-C) leaves
    no half-written project behind.
    """
    import copier
    from copier.errors import CopierError
    from jinja2 import TemplateError

    dest = dest.absolute()
    check_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.kgen-", dir=dest.parent))
    try:
        try:
            copier.run_copy(
                str(template),
                staging,
                data=dict(answers),
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=False,
            )
        except (CopierError, TemplateError, ValueError) as error:
            message = " ".join(f"{type(error).__name__}: {error}".split())
            raise KgenError(
                f"{template} failed to render ({message}); fix the template"
            ) from None
        format_tree(staging)
        staging.chmod(0o777 & ~_umask())  # mkdtemp made it private
        if dest.is_dir():
            dest.rmdir()  # empty, as checked above
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest
