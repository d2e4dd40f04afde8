"""The `docker` command line, the only way factorstack builds and pushes images.

Its output streams to the terminal as it comes; a failure stops the release with one line.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from factorstack.errors import DeployError, NotReady

PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
# `docker info` answers at once when the engine runs; a hung socket must not hang the release.
ENGINE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Docker:
    executable: str
    context: Path  # the repo root: every Dockerfile builds with it as its context

    @classmethod
    def find(cls, context: Path) -> Docker:
        """The docker client on PATH with its engine running, or a one-line error (exit 2)."""
        found = shutil.which("docker")
        if found is None:
            raise NotReady(
                "docker: not found on PATH (install Docker, or push the images yourself and "
                "run `factorstack release ENV --no-build --tag TAG`)"
            )
        docker = cls(found, context)
        docker.check_engine()
        return docker

    def check_engine(self) -> None:
        """Refuse before logging in when the client cannot reach its engine: without this, the
        first build fails later with a confusing socket or DNS error."""
        try:
            result = subprocess.run(
                [self.executable, "info"],
                capture_output=True,
                text=True,
                check=False,
                timeout=ENGINE_TIMEOUT_SECONDS,
                cwd=self.context,
            )
        except subprocess.TimeoutExpired:
            said = f"no answer in {ENGINE_TIMEOUT_SECONDS} s"
        except OSError as error:
            said = error.strerror or str(error)
        else:
            if result.returncode == 0:
                return
            said = next(
                (line.strip() for line in result.stderr.splitlines() if line.strip()),
                f"exited {result.returncode}",
            )
        raise NotReady(
            "docker: Docker is not running (start Docker Desktop or the docker service, "
            f"then release again); `docker info` said: {said}"
        )

    def run(self, *args: str, stdin: str | None = None, doing: str) -> None:
        result = subprocess.run(
            [self.executable, *args], input=stdin, text=True, check=False, cwd=self.context
        )
        if result.returncode != 0:
            raise DeployError(
                f"{doing} failed (docker exited {result.returncode}); nothing recorded"
            )

    def login(self, registry: str, username: str, password: str) -> None:
        """Log in with the password on stdin, never on the command line."""
        self.run(
            "login",
            "--username",
            username,
            "--password-stdin",
            registry,
            stdin=password,
            doing=f"docker login to {registry}",
        )

    def build(self, dockerfile: str, image: str, platform: str) -> None:
        self.run(
            "build",
            "--platform",
            platform,
            "--file",
            dockerfile,
            "--tag",
            image,
            ".",
            doing=f"docker build of {image}",
        )

    def push(self, image: str) -> None:
        self.run("push", image, doing=f"docker push of {image}")
