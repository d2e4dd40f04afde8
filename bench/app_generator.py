"""A generated app with many process types, for the benchmark and the many-process lint test."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def write_generated_app(root: Path, process_count: int, repo: Path = REPO) -> Path:
    """The sample app of `repo` plus `process_count - 3` extra workers, in every sample
    environment (`repo`: to bench another checkout against its own sample)."""
    root.mkdir(parents=True, exist_ok=True)
    app = yaml.safe_load((repo / "app.yaml").read_text())
    for index in range(process_count - len(app["processes"])):
        app["processes"][f"worker-{index:03d}"] = {
            "docker": "docker/queue_worker",
            "command": ["php", "artisan", "queue:work", f"--queue=q{index}", "--timeout=90"],
        }
    (root / "app.yaml").write_text(yaml.safe_dump(app, sort_keys=False))
    shutil.rmtree(root / "environments", ignore_errors=True)
    shutil.copytree(repo / "environments", root / "environments")
    return root
