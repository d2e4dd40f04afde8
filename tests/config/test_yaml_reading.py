"""How app.yaml and the environment files are read: plain words keep the text the user wrote
(YAML 1.2, not PyYAML's 1.1 booleans, octals and sexagesimals), merge keys work, and YAML that
cannot be a config (a list as a key, nesting without end, an empty section) is one line, exit 2.
Also a file or folder of the wrong kind where factorstack reads or writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _passed_to_web(root: Path) -> dict[str, object]:
    web = raw_templates_of(root, "dev")["root.json"]["Resources"]["WebStack"]
    return web["Properties"]["Parameters"]


def test_unquoted_words_reach_the_container_as_written(sample_root: Path) -> None:
    """PyYAML's YAML 1.1 read NO and off as false, 0755 as 493 and 12:30 as 750."""
    text = "".join(
        f"  {name}: {value}\n"
        for name, value in [
            ("COUNTRY", "NO"),
            ("DEBUG_MODE", "off"),
            ("FILE_MODE", "0755"),
            ("START", "12:30"),
            ("RELEASED", "2026-11-27"),
            ("FEATURE", "yes"),
            ("WORKERS", "4"),
            ("VERBOSE", "true"),
        ]
    )
    app = sample_root / "app.yaml"
    _append(app, text)  # the file ends inside its `environment:` mapping
    passed = _passed_to_web(sample_root)
    assert passed["VariableCountry"] == "NO"
    assert passed["VariableDebugMode"] == "off"
    assert passed["VariableFileMode"] == "0755"
    assert passed["VariableStart"] == "12:30"
    assert passed["VariableReleased"] == "2026-11-27"
    assert passed["VariableFeature"] == "yes"
    assert passed["VariableWorkers"] == "4"  # numbers and true/false are still what they say
    assert passed["VariableVerbose"] == "true"


def test_an_account_id_with_a_leading_zero_is_text_not_an_octal(sample_root: Path) -> None:
    path = sample_root / "environments/dev.yaml"
    path.write_text(path.read_text().replace('account: "111111111111"', "account: 011111111111"))
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 0
    manifest = json.loads((sample_root / "build/dev/manifest.json").read_text())
    assert manifest["account"] == "011111111111"


def test_a_decimal_variable_is_told_to_be_quoted(sample_root: Path, capsys) -> None:
    _append(sample_root / "app.yaml", "  VERSION: 1.10\n")
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "app.yaml: environment.VERSION: 1.1 is a decimal number here (quote it, as written)"
    ]


def test_merge_keys_bring_in_an_anchor_and_written_keys_win(sample_root: Path) -> None:
    path = sample_root / "environments/dev.yaml"
    lines = path.read_text().splitlines()
    web = lines.index("  web: {cpu: 256, memory: 512, min_tasks: 1, max_tasks: 2}")
    lines[web] = "  web: &small {cpu: 256, memory: 512, min_tasks: 1, max_tasks: 2}"
    worker = next(i for i, line in enumerate(lines) if line.startswith("  worker: {"))
    lines[worker] = "  worker: {<<: *small, max_tasks: 3, spot: true}"
    path.write_text("\n".join(lines) + "\n")
    passed = raw_templates_of(sample_root, "dev")["root.json"]["Resources"]["AutoscalingStack"]
    assert passed["Properties"]["Parameters"]["MaxTasks"] == "2,3"  # web's 2, worker's own 3
    assert passed["Properties"]["Parameters"]["MinTasks"] == "1,1"  # worker's from the anchor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "app: example\nprocesses:\n  ? [web, worker]\n  : {docker: docker/apache}\n",
            "app.yaml:3: malformed YAML: a key must be a plain word, not a list or mapping",
        ),
        ("app: " + "[" * 3000 + "]" * 3000 + "\n", "app.yaml: malformed YAML: nested too deeply"),
    ],
)
def test_yaml_no_config_can_be_is_one_line(sample_root: Path, capsys, text, expected) -> None:
    (sample_root / "app.yaml").write_text(text)
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(expected), line


@pytest.mark.parametrize("section", ["cache", "database", "release"])
def test_a_section_written_empty_is_not_read_as_absent(sample_root: Path, capsys, section):
    """`cache:` whose one setting was commented out would otherwise build without a cache."""
    edit_yaml(sample_root / "app.yaml", lambda d: d.update({section: None}))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert (
        f"app.yaml: {section}: empty (write `{section}: {{}}` for the defaults, or remove the key)"
    ) in lines


@pytest.mark.parametrize("name", ["release", "rotation"])
def test_a_process_named_like_a_nested_stack_is_refused(sample_root: Path, capsys, name):
    edit_yaml(sample_root / "app.yaml", lambda d: d["processes"].update({name: {"docker": "x"}}))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert f"app.yaml: processes.{name}: {name!r} is reserved" in err
    assert "Traceback" not in err


def test_an_emoji_in_a_variable_builds_and_lints_clean(sample_root: Path, capsys) -> None:
    """json.dumps escaped it as a surrogate pair, which cfn-lint's reader refused."""
    _append(sample_root / "app.yaml", '  GREETING: "hi 🚀"\n')
    assert main(["--root", str(sample_root), "build", "dev"]) == 0, capsys.readouterr().err
    text = (sample_root / "build/dev/root.json").read_text(encoding="utf-8")
    assert "hi 🚀" in text


def test_a_folder_where_a_file_belongs_is_one_line(sample_root: Path, capsys) -> None:
    (sample_root / "environments/dev.yaml").unlink()
    (sample_root / "environments/dev.yaml").mkdir()
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("dev.yaml: is a folder where a file belongs (remove or rename it)")


def test_a_file_where_the_build_folder_belongs_is_one_line(sample_root: Path, capsys) -> None:
    build = sample_root / "build"
    if build.exists():
        shutil.rmtree(build)
    build.write_text("")
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "a file stands where a folder belongs (remove or rename it)" in line


@pytest.mark.parametrize(
    ("file", "field"),
    [("app.yaml", "environment.APP_URL"), ("environments/dev.yaml", "environment.LOG_LEVEL")],
)
def test_a_placeholder_in_a_plain_value_is_refused(sample_root: Path, capsys, file, field):
    """It would reach the container as the characters `${AWS::Region}` (and cfn-lint failed
    the build with exit 1 on the generated root)."""
    variable = field.split(".")[1]
    edit_yaml(sample_root / file, lambda d: d["environment"].update({variable: "${AWS::Region}"}))
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert (
        f"{file}: {field}: '${{AWS::Region}}': `${{...}}` is not substituted; a plain value "
        "reaches the container as written (write the value itself, or read it from a parameter)"
    ) in capsys.readouterr().err.splitlines()
