"""Where templates come from: kgen's built-in one, or a team's own copier template."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kgen.errors import KgenError
from kgen.generate import ANSWERS_FILE
from kgen.questions import load_questions
from kgen.store import (
    BUNDLE_SOURCE,
    builtin_template,
    ensure_store,
    git,
    packaged_bundle,
    release_tags,
    snapshot,
    template_tag,
    unreleased_changes,
)

# The answers file key where a project made by a development kgen lists the
# template files that differed from the release it records (see `record`).
UNRELEASED = "_kgen_unreleased"

REMOTE_PREFIXES = (
    "https://",
    "http://",
    "ssh://",
    "git://",
    "git+",
    "git@",
    "gh:",
    "gl:",
)


@dataclasses.dataclass(frozen=True)
class TemplateSource:
    """A template as copier gets it, and a local directory to read its questions."""

    url: str  # a directory or a git URL, as copier takes (and records) it
    ref: str | None  # a git tag, branch or commit; None: copier's choice
    local: Path  # the template's files at `ref`
    builtin: bool = False
    label: str = "the built-in template"  # how messages name it: as the user wrote it

    @property
    def record(self) -> dict[str, Any] | None:
        """What the answers file records as the source, where kgen decides it."""
        if not self.builtin:
            return None  # copier records the URL and the commit itself
        return {"_commit": self.ref or template_tag(), "_src_path": BUNDLE_SOURCE}

    def record_for(self, answers: Mapping[str, Any]) -> dict[str, Any] | None:
        """`record`, and for a built-in template directory that is not exactly its
        release (a development checkout of kgen) the files of a project with
        `answers` that differ, so that `kgen update` can say its 3-way update takes
        them for the user's edits."""
        record = self.record
        if record is None or self.ref is not None:
            return record
        release, changed = unreleased_changes(self.local, record["_commit"])
        files = project_files(changed, answers)
        if files:
            record[UNRELEASED] = {"release": release, "files": files}
        return record


def project_files(changed: list[str], answers: Mapping[str, Any]) -> list[str]:
    """The changed template files that matter to a project with `answers`, named as
    it knows them: `project/{{ package_name }}/model.py.jinja` as `demo/model.py`;
    shared parts (`includes/...`, its pattern's `patterns/NAME/...`) as they are."""
    import re

    pattern = answers.get("pattern")
    names = []
    for name in changed:
        if name.startswith("patterns/") and not name.startswith(f"patterns/{pattern}/"):
            continue  # another pattern's
        if name.startswith("project/"):
            name = re.sub(r"{%.*?%}", "", name.removeprefix("project/"))
            name = re.sub(
                r"{{\s*([\w.]+)\s*}}",
                lambda match: str(
                    {**answers, "_copier_conf.answers_file": ANSWERS_FILE}.get(
                        match[1], match[1]
                    )
                ),
                name,
            ).removesuffix(".jinja")
        names.append(name)
    return sorted(set(names))


def builtin_source() -> TemplateSource:
    template = builtin_template()
    return TemplateSource(url=str(template), ref=None, local=template, builtin=True)


def older_release() -> str:
    """A release of kgen's template to name in examples: the newest before this one."""
    try:
        tags = release_tags()
    except KgenError:
        tags = []
    older = [tag for tag in tags if tag != template_tag()]
    return older[0] if older else template_tag()


def is_bundle(path: Path) -> bool:
    """Whether `path` names kgen's template bundle (the store's or the packaged one)."""
    bundles = {Path(BUNDLE_SOURCE).expanduser(), packaged_bundle()}
    return path.expanduser().resolve() in {bundle.resolve() for bundle in bundles}


@contextlib.contextmanager
def builtin_release(ref: str | None, label: str) -> Iterator[TemplateSource]:
    """The built-in template as kgen release `ref` shipped it (default: the newest).

    Rendered from the store, like an update, so the project records the store and
    the release, and `kgen update` later brings it to the newest release.
    """
    store = ensure_store()
    tags = release_tags(store)
    ref = ref or (tags[0] if tags else None)
    if ref not in tags:
        raise KgenError(
            f"kgen's template has no release {ref!r}; the releases are "
            f"{', '.join(tags)} (e.g. --template {BUNDLE_SOURCE}@{tags[0]})"
        )
    with tempfile.TemporaryDirectory(prefix="kgen-template-") as scratch:
        checkout = Path(scratch) / "template"
        clone(str(store), ref, checkout)
        yield TemplateSource(
            url=str(store), ref=ref, local=checkout, builtin=True, label=label
        )


def split_spec(spec: str) -> tuple[str, str | None]:
    """`PATH_OR_URL[@REF]` into the location and the ref (a ref has no '/' or ':')."""
    location, at, ref = spec.rpartition("@")
    if at and location and ref and "/" not in ref and ":" not in ref:
        return location, ref
    return spec, None


def is_remote(location: str) -> bool:
    return location.startswith(REMOTE_PREFIXES) or location.endswith(".git")


@contextlib.contextmanager
def open_template(
    spec: str | None, store_path: str | None = None, versioned: bool = True
) -> Iterator[TemplateSource]:
    """The template `spec` names (None: the built-in one), checked out if it is git.

    A git template is cloned once into a temporary directory to read its questions;
    copier then renders from the URL itself, so the project records it. A plain
    directory is first committed as a new version into kgen's store (`store_path`,
    or one named after it), which copier then renders from; with `versioned` False
    (to read its questions only) the directory is used as it is.
    """
    if spec is None:
        yield builtin_source()
        return
    location, ref = split_spec(spec)
    path = Path(location).expanduser()
    if not is_remote(location) and is_bundle(path):
        with builtin_release(ref, spec) as release:
            yield release
        return
    if not is_remote(location) and path.is_file():  # a git bundle: cloned
        location = str(path.absolute())
    elif not is_remote(location):
        if not path.is_dir():
            raise KgenError(
                f"template {location} does not exist; pass a directory, a git URL "
                "or a git bundle, optionally @REF (kgen's own older releases: "
                f"--template {BUNDLE_SOURCE}@{older_release()})"
            )
        location = str(path.absolute())
        if not (path / ".git").exists() and not versioned:
            yield TemplateSource(url=location, ref=None, local=path, label=spec)
            return
        if not (path / ".git").exists():
            if ref:
                raise KgenError(
                    f"template {location} is not a git repository, so it has no "
                    f"ref {ref!r}; drop @{ref} or put the template under git"
                )
            # No history to update from later: kgen keeps one in its store.
            load_questions(path)  # a clear error if it is not a copier template
            store, ref = snapshot(path, store_path)
            yield TemplateSource(url=store, ref=ref, local=path, label=spec)
            return
    with tempfile.TemporaryDirectory(prefix="kgen-template-") as scratch:
        checkout = Path(scratch) / "template"
        ref = clone(location, ref, checkout)
        yield TemplateSource(url=location, ref=ref, local=checkout, label=spec)


def clone(location: str, ref: str | None, checkout: Path) -> str | None:
    """Clone `location` into `checkout` at `ref` (default: its latest tag, or HEAD).

    Returns the ref checked out, so copier can render that same version.
    """
    url = location
    if location.startswith("gh:"):
        url = f"https://github.com/{location[3:]}.git"
    elif location.startswith("gl:"):
        url = f"https://gitlab.com/{location[3:]}.git"
    elif location.startswith("git+"):
        url = location[4:]
    try:
        git("clone", "--quiet", url, str(checkout))
    except KgenError as error:
        raise KgenError(f"cannot read template {location}: {error}") from None
    if ref is None:
        tags = git("tag", "--list", "--sort=-v:refname", cwd=checkout).split()
        ref = tags[0] if tags else None
    if ref is not None:
        try:
            git("checkout", "--quiet", ref, cwd=checkout)
        except KgenError:
            raise KgenError(
                f"template {location} has no ref {ref!r}; "
                "name a tag, branch or commit it has"
            ) from None
    return ref
