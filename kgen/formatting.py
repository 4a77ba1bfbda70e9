"""Format generated Python files with black, in-process."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def black_mode(project: Path):  # -> black.Mode
    """black's mode for `project`, read from its pyproject.toml like `black .` would."""
    import black

    config: dict = {}
    pyproject = project / "pyproject.toml"
    try:
        config = black.parse_pyproject_toml(str(pyproject))
    except (OSError, ValueError):  # none, or unreadable (e.g. conflict markers)
        pass
    return black.Mode(
        target_versions={
            black.TargetVersion[version.upper()]
            for version in config.get("target_version", [])
        },
        line_length=config.get("line_length", black.DEFAULT_LINE_LENGTH),
    )


def format_tree(project: Path, paths: Iterable[Path] | None = None) -> list[Path]:
    """Format the `.py` files under `project` (or those of `paths`) in place.

    Returns the files black changed.
    """
    import black

    mode = black_mode(project)
    changed = []
    files = project.rglob("*.py") if paths is None else paths
    for path in sorted(path for path in files if path.suffix == ".py"):
        source = path.read_text(encoding="utf-8")
        try:
            # One pass, no AST round-trip check: the tests prove the template's output
            # parses and is black-stable, and this halves the cost of `kgen new`.
            formatted = black.format_file_contents(source, fast=True, mode=mode)
        except black.NothingChanged:
            continue
        except black.InvalidInput as error:
            from kgen.errors import KgenError

            raise KgenError(
                f"the template produced invalid Python in {path.relative_to(project)} "
                f"({error}); fix the template"
            ) from None
        path.write_text(formatted, encoding="utf-8")
        changed.append(path)
    return changed
