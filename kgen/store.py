"""The template store: every released version of the built-in template, offline.

copier's 3-way update renders the project twice from its template: once at the
version the project was made with (`_commit` in `.copier-answers.yml`), once at the
new one. Both must come from one git repository that is there without a network and
without the kgen release that made the project. So kgen ships the built-in
template's whole release history as a git bundle (`templates/keras.bundle`, one
commit tagged `v<version>` per kgen release) and copies it to `~/.kgen/templates/`,
a path every machine can resolve. Projects record that path with the `~`, so a project
made on one machine by kgen 0.1 updates on another that only has kgen 0.3 installed:
the newer bundle still holds the `v0.1` commit.

`kgen new` renders the plain template directory (fast, no clone) and records the tag
of the current version; `tests/test_store.py` proves that tag holds exactly the
directory's files, and `scripts/release_template.py` refreshes the bundle.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from kgen import __version__
from kgen.errors import KgenError

# Where projects say their template lives: `~` keeps the answers file portable.
BUNDLE_SOURCE = "~/.kgen/templates/keras.bundle"


def builtin_template() -> Path:
    """The built-in template: inside the installed package, or in the source tree."""
    here = Path(__file__).resolve().parent
    for root in (here / "templates", here.parent / "templates"):
        if (root / "keras" / "copier.yml").is_file():
            return root / "keras"
    raise KgenError("kgen's built-in template is missing; reinstall kgen")


def template_tag(version: str = __version__) -> str:
    """The git tag of the built-in template shipped with kgen `version`."""
    return f"v{version}"


def packaged_bundle() -> Path:
    """The bundle inside the kgen installation, next to the template directory."""
    return builtin_template().parent / "keras.bundle"


def ensure_store() -> Path:
    """Install kgen's bundle at BUNDLE_SOURCE (when it differs) and return its path.

    A newer kgen's bundle holds every older version too, so replacing the file
    never loses a version a project may refer to.
    """
    packaged = packaged_bundle()
    if not packaged.is_file():
        raise KgenError(f"{packaged} is missing; reinstall kgen")
    installed = Path(BUNDLE_SOURCE).expanduser()
    content = packaged.read_bytes()
    if installed.is_file() and installed.read_bytes() == content:
        return installed
    try:
        installed.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=installed.parent, prefix=".bundle-")
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, installed)
    except OSError as error:
        raise KgenError(
            f"cannot write kgen's template store {installed} ({error.strerror}); "
            "make ~/.kgen writable"
        ) from None
    return installed


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git and return its output; a failure becomes a KgenError."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise KgenError("git is not installed; install git and retry") from None
    if result.returncode != 0:
        message = " ".join(result.stderr.split()) or f"exit {result.returncode}"
        raise KgenError(f"git {args[0]} failed in {cwd or Path.cwd()}: {message}")
    return result.stdout


def release_tags(bundle: Path | None = None) -> list[str]:
    """The release tags of the built-in template's bundle, newest first."""
    bundle = bundle or packaged_bundle()
    listing = git("ls-remote", "--tags", "--refs", str(bundle))
    tags = [line.partition("refs/tags/")[2] for line in listing.splitlines()]
    return sorted(filter(None, tags), key=_version_key, reverse=True)


def _version_key(tag: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(tag.removeprefix("v"))
    except InvalidVersion:
        return Version("0")


def unreleased_changes(template: Path, tag: str) -> tuple[str, list[str]]:
    """How the built-in template directory `template` differs from release `tag`.

    Returns the release compared with (`tag`; the newest release before it while
    `tag` is not in the bundle, during development) and the files, relative to the
    template, that are changed, added or removed since. No files: `template` holds
    exactly that release, as an installed kgen does.
    """
    import hashlib

    bundle = packaged_bundle()
    if not bundle.is_file():
        return tag, []  # nothing to compare with: ensure_store reports it
    stat = bundle.stat()
    tags = _release_tags(bundle, stat.st_mtime_ns, stat.st_size)
    if tag not in tags:
        older = [t for t in tags if _version_key(t) < _version_key(tag)]
        if not older:
            return tag, []
        tag = older[0]
    released = _release_files(bundle, stat.st_mtime_ns, stat.st_size, tag)
    here = {}
    for path in sorted(template.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            if path.suffix not in {".pyc", ".pyo"}:
                data = path.read_bytes()
                blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                here[path.relative_to(template).as_posix()] = blob
    differ = {
        name
        for name in here.keys() | released.keys()
        if here.get(name) != released.get(name)
    }
    return tag, sorted(differ)


@functools.cache
def _release_tags(bundle: Path, mtime: int, size: int) -> list[str]:
    return release_tags(bundle)


@functools.cache
def _release_files(bundle: Path, mtime: int, size: int, tag: str) -> dict[str, str]:
    """Each file of release `tag` in `bundle`, with its git blob id (cached by stat)."""
    with tempfile.TemporaryDirectory(prefix="kgen-release-") as scratch:
        git("clone", "--quiet", "--no-checkout", str(bundle), scratch)
        listing = git("ls-tree", "-r", "--full-tree", tag, cwd=Path(scratch))
    files = {}
    for line in listing.splitlines():
        meta, _, name = line.partition("\t")
        files[name] = meta.split()[2]
    return files


# Plain-directory templates have no history of their own; kgen keeps one for them.
CUSTOM_STORE = "~/.kgen/templates/custom"
IDENTITY = (
    "-c",
    "user.name=kgen",
    "-c",
    "user.email=kgen@users.noreply.github.com",
)


def snapshot(template: Path, store: str | None = None) -> tuple[str, str]:
    """Commit the plain template directory `template` as a new version of a store.

    `store` is the store's path as projects record it (`~/.kgen/...`); by default
    one named after the directory. Returns that path and the version's tag (`v1`,
    `v2`, ...; the latest tag again when nothing changed), so copier can render the
    directory as a git template and a later `kgen update` finds this version.
    """
    import hashlib
    import shutil

    template = template.absolute()
    if store is None:
        digest = hashlib.sha256(str(template).encode()).hexdigest()[:8]
        store = f"{CUSTOM_STORE}/{template.name}-{digest}"
    repo = Path(store).expanduser()
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", cwd=repo)
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(
        template,
        repo,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"),
    )
    git("add", "--all", cwd=repo)
    tags = git("tag", "--list", "v*", cwd=repo).split()
    numbers = [int(tag[1:]) for tag in tags if tag[1:].isdigit()]
    if numbers and not git("status", "--porcelain", cwd=repo).strip():
        return store, f"v{max(numbers)}"
    tag = f"v{max(numbers, default=0) + 1}"
    git(*IDENTITY, "commit", "--quiet", "--allow-empty", "-m", tag, cwd=repo)
    git(*IDENTITY, "tag", tag, cwd=repo)
    return store, tag
