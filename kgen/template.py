"""Where kgen's built-in copier template lives."""

from __future__ import annotations

from pathlib import Path

from kgen.errors import KgenError


def builtin_template() -> Path:
    """The built-in template: inside the installed package, or in the source tree."""
    here = Path(__file__).resolve().parent
    for root in (here / "templates", here.parent / "templates"):
        if (root / "keras" / "copier.yml").is_file():
            return root / "keras"
    raise KgenError("kgen's built-in template is missing; reinstall kgen")
