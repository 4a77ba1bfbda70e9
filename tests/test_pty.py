"""The interactive flow once in a real pseudo-terminal, as a user would see it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import yaml


def test_interactive_session_in_a_terminal(tmp_path: Path) -> None:
    dest = tmp_path / "typed"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kgen", "new", "siamese", str(dest), "--no-smoke"],
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
        encoding="utf-8",
        timeout=20,
    )
    try:
        child.expect(r"Project name.*\[typed\]: ")
        child.sendline("")
        child.expect(r"Python package name.*\[typed\]: ")
        child.sendline("")
        child.expect(r"One-line description.*: ")
        child.sendline("Pairs of things")
        child.expect(r"Author.*: ")
        child.sendline("Ada")
        child.expect(r"Shape of one input.*\[32\]: ")
        child.sendline("")
        child.expect(r"Size of the embedding.*\[16\]: ")
        child.sendline("")
        child.expect(r"Hidden layers.*\[2\]: ")
        child.sendline("nine")
        child.expect("is not a valid int")
        child.expect(r"Hidden layers.*\[2\]: ")
        child.sendline("4")
        child.expect(r"per encoder layer \[64\]: ")
        child.sendline("")
        child.expect(r"Distance.*\(l1 / euclidean / cosine\).*\[euclidean\]: ")
        child.sendline("cosine")
        child.expect(r"Training loss.*\[contrastive\]: ")
        child.sendline("")
        child.expect(r"Contrastive margin.*\[1.0\]: ")
        child.sendline("0.5")
        child.expect(r"In-graph transform.*\[none\]: ")
        child.sendline("clip")
        child.expect(r"Lower bound.*\[0.0\]: ")
        child.sendline("")
        child.expect(r"Upper bound.*\[1.0\]: ")
        child.sendline("-1")
        child.expect("must be above --clip-min")
        child.expect(r"Upper bound.*\[1.0\]: ")
        child.sendline("5")
        for _ in range(3):  # epochs, batch size, learning rate
            child.expect(r"Default .*: ")
            child.sendline("")
        child.expect(r"Multi-device .* \(y/n\) \[n\]: ")
        child.sendline("")
        child.expect("Generated siamese project")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["description"] == "Pairs of things"
    assert answers["author"] == "Ada"
    assert answers["encoder_depth"] == 4
    assert answers["distance"] == "cosine"
    assert answers["margin"] == 0.5
    assert (answers["output_transform"], answers["clip_max"]) == ("clip", 5.0)
