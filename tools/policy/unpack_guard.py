"""Unpack cfn-guard and the Control Tower Guard rules from `cdklabs-cdk-validator-cfnguard`.

Run by the guard virtual environment's python (the Makefile does): the package is a jsii
wrapper whose tarball carries a cfn-guard binary per platform and the rules, so the files are
found through the installed distribution's record, never a spelled site-packages path.
"""

from __future__ import annotations

import platform
import shutil
import sys
import tarfile
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "cdklabs-cdk-validator-cfnguard"
RULES = "package/rules/control-tower/"
MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def tarball() -> Path:
    """The jsii tarball inside the installed distribution."""
    for file in metadata.files(DISTRIBUTION) or []:
        if file.name.endswith(".jsii.tgz"):
            return Path(str(file.locate()))
    raise SystemExit(f"{DISTRIBUTION} has no .jsii.tgz: reinstall it (make policy does)")


def binary_member() -> str:
    """The tarball's cfn-guard for this machine (the package ships Linux and macOS builds)."""
    machine = MACHINES.get(platform.machine().lower())
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    if machine is None or system is None:
        raise SystemExit(f"no cfn-guard in {DISTRIBUTION} for {platform.system()} {machine}")
    return f"package/bin/{system}/{machine}/cfn-guard"


def unpack(target: Path) -> None:
    """target/cfn-guard, target/rules/cfn-guard/**.guard, target/rules/metadata/**.json."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    wanted = binary_member()
    with tarfile.open(tarball()) as archive:
        for member in archive.getmembers():
            if member.name == wanted:
                destination = target / "cfn-guard"
            elif member.name.startswith(RULES) and member.isfile():
                destination = target / "rules" / member.name.removeprefix(RULES)
            else:
                continue
            source = archive.extractfile(member)
            assert source is not None, member.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read())
    (target / "cfn-guard").chmod(0o755)


if __name__ == "__main__":
    unpack(Path(sys.argv[1]))
