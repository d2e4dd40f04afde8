"""The revision being deployed: its git commit (None outside git), who deploys it, and when.

Change sets are named after it, and release tags images with its commit.
"""

from __future__ import annotations

import getpass
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from factorstack.deploy.decide.change_sets import Revision


def git_commit(root: Path) -> str | None:
    """HEAD's commit of the repo at root, or None outside git (or without git)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def current_revision(root: Path) -> Revision:
    """The revision of the working copy being deployed."""
    return Revision(commit=git_commit(root), user=getpass.getuser(), time=datetime.now(UTC))
