"""Record templates/keras/ in templates/keras.bundle as the current kgen version.

    python scripts/release_template.py

The bundle is the built-in template's release history (see kgen/store.py): one
commit per kgen version, tagged `v<version>`, each holding templates/keras/ as it
shipped. Run this whenever the template changes; tests/test_store.py fails until
the bundle's tag for the current version matches the directory. The tag of the
current version is rewritten while it is being developed; older tags are never
touched, so projects made by released versions can always be updated. Bump
`kgen.__version__` when releasing, and the next run starts a new tag.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "keras"
BUNDLE = ROOT / "templates" / "keras.bundle"
sys.path.insert(0, str(ROOT))

from kgen import __version__  # noqa: E402
from kgen.store import IDENTITY, template_tag  # noqa: E402
from kgen.store import git as run_git  # noqa: E402


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`, committing as kgen."""
    return run_git(*IDENTITY, *args, cwd=repo).strip()


def template_files(template: Path) -> list[Path]:
    """The template's files, relative to it (no caches)."""
    return sorted(
        path.relative_to(template)
        for path in template.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
    )


def release(
    template: Path = TEMPLATE, bundle: Path = BUNDLE, version: str = __version__
) -> str:
    """Commit the `template` directory as `version` into `bundle`; return the tag."""
    tag = template_tag(version)
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "store"
        if bundle.is_file():
            run_git("clone", "--quiet", str(bundle), str(repo))
            if tag in git(repo, "tag", "--list").split():
                git(repo, "checkout", "--quiet", tag)
                copy_template(template, repo)
                if not git(repo, "status", "--porcelain"):
                    return tag  # the bundle already holds this very template
                # Still in development: replace the tag's commit.
                git(repo, "checkout", "--quiet", "--force", "main")
                parents = git(repo, "rev-list", "--parents", "-n", "1", tag).split()
                git(repo, "tag", "--delete", tag)
                if len(parents) > 1:
                    git(repo, "reset", "--quiet", "--hard", parents[1])
                else:  # the first version: start over
                    shutil.rmtree(repo)
        if not repo.is_dir():
            repo.mkdir()
            git(repo, "init", "--quiet", "--initial-branch", "main")
        copy_template(template, repo)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", f"kgen {version}")
        git(repo, "tag", "-a", tag, "-m", f"kgen {version}")
        git(repo, "bundle", "create", str(bundle), "HEAD", "main", "--tags")
    return tag


def copy_template(template: Path, repo: Path) -> None:
    """Make the work tree of `repo` hold exactly the files of `template`."""
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in template_files(template):
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(template / name, target)
    git(repo, "add", "--all")


if __name__ == "__main__":
    print(f"{BUNDLE.relative_to(ROOT)}: {release()}")
