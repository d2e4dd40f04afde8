"""The `factorstack` command line itself: every subcommand's help, --root, --version, a closed
pipe, and the one wording of the exit codes that README and deploy.sh repeat."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib import metadata

import pytest

from factorstack.cli import EXIT_BROKEN_PIPE, SCHEMA_KINDS, main, make_parser
from factorstack.errors import EXIT_CODES, EXIT_CODES_HELP, EXIT_CODES_TEXT
from tests.support.sample import REPO


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = make_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def words(text: str) -> str:
    """Text with markdown backticks, comment marks and line breaks folded away."""
    text = re.sub(r"^# ?", "", text, flags=re.MULTILINE).replace("`", "")
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_subcommand_has_a_description_and_the_exit_codes(name, capsys):
    command = subcommands()[name]
    assert command.description, f"{name} has no description"
    with pytest.raises(SystemExit):
        main([name, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert command.description.split(":")[0] in shown
    assert EXIT_CODES_HELP in shown


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_root_is_accepted_after_every_subcommand(name):
    parser = subcommands()[name]
    assert any("--root" in action.option_strings for action in parser._actions), name


def test_root_after_build_is_used(tmp_path, capsys):
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("app.yaml: file not found")
    assert make_parser().parse_args(["--root", "/a", "build"]).root == "/a"
    assert make_parser().parse_args(["build", "--root", "/b"]).root == "/b"


def test_schema_offers_exactly_the_kinds_the_config_describes():
    from factorstack.config.schema import KINDS

    assert list(SCHEMA_KINDS) == list(KINDS)
    (kind,) = [a for a in subcommands()["schema"]._actions if a.dest == "kind"]
    assert list(kind.choices) == list(KINDS)


def test_the_parser_is_built_without_the_config_models():
    """~0.4 s that `factorstack build` on an unchanged tree does not need to pay."""
    script = (
        "import sys; from factorstack.cli import make_parser; make_parser(); "
        "print('factorstack.config.models' in sys.modules, 'pydantic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"factorstack {metadata.version('factorstack')}"


@pytest.mark.parametrize("command", [["schema", "app"], ["cost", "dev", "--offline"]])
def test_a_closed_pipe_stops_quietly(command, sample_root):
    """`factorstack schema app | head -1`: the reader leaves before the output is written.
    `cost` prints through rich, which on its own exits 1 when its reader leaves."""
    assert main(["--root", str(sample_root), "build", "dev"]) == 0  # cost wants a linted build
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from factorstack.cli import main; sys.exit(main())"]
        + ["--root", str(sample_root), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # nobody reads: every write gets EPIPE
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert stderr == ""


def test_exit_codes_are_worded_once():
    assert f"exit codes: {EXIT_CODES_TEXT}" == EXIT_CODES_HELP
    assert sorted(EXIT_CODES) == [0, 1, 2, 3]


def test_readme_exit_codes_section_says_the_same():
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    first_paragraph = section.strip().split("\n\n")[0]
    assert words(first_paragraph) == f"{EXIT_CODES_TEXT}."


def test_deploy_sh_header_says_the_same():
    header = (REPO / "deploy.sh").read_text().split("\nset -euo pipefail", 1)[0]
    block = header.split("# Exit codes: ", 1)[1]
    assert words(block) == f"{EXIT_CODES_TEXT}."


def test_a_run_command_with_its_own_option_but_no_double_dash_is_told_how(capsys):
    assert main(["run", "dev", "web", "--detach", "php", "artisan", "--version"]) == 2
    assert capsys.readouterr().err.strip() == (
        "factorstack: unrecognized arguments: --version (see --help); put the task's command "
        "after `--`, e.g. factorstack run ENV PROCESS --detach -- php artisan --version"
    )
