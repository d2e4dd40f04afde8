"""ElastiCache takes 1 to 6 nodes in a replication group (a primary and at most 5 replicas),
and the shared data template passes their count as a Number: more replicas is refused in the
environment file, in one line, before anything is built."""

from __future__ import annotations

from pathlib import Path

from factorstack.cli import main
from tests.support.sample import edit_yaml


def test_more_than_five_cache_replicas_is_one_line(sample_root: Path, capsys) -> None:
    edit_yaml(sample_root / "environments/dev.yaml", lambda env: env["cache"].update(replicas=6))
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "environments/dev.yaml: cache.replicas: 6 is out of range "
        "(input should be less than or equal to 5)"
    ]
