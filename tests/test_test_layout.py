"""The tests' own layout: shared helpers live in tests/support/, and no module imports a test
module or a conftest (a helper's home would depend on which test first needed it, and a test
module imported elsewhere runs its imports and fixtures twice over)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUPPORT = ("tests", "support")


def imported_names(path: Path, root: Path) -> list[tuple[int, tuple[str, ...]]]:
    """(line, dotted name) of what each import statement brings in, at any depth (inside
    functions too); a relative import is resolved against the file's place under root."""
    package = path.relative_to(root).parent.parts
    found: list[tuple[int, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, tuple(alias.name.split("."))) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = (*base, *(node.module.split(".") if node.module else ()))
            found.extend((node.lineno, (*module, alias.name)) for alias in node.names)
    return found


def misplaced_imports(path: Path, root: Path) -> list[str]:
    """Imports of a test module or a conftest, and of tests.* modules outside tests/support."""
    problems: dict[int, str] = {}
    for line, name in imported_names(path, root):
        if name[0] != "tests" or line in problems:
            continue
        where = f"{path.relative_to(root)}:{line}: {'.'.join(name)}"
        if any(part.startswith("test_") or part == "conftest" for part in name):
            problems[line] = f"{where} (a test module or conftest: move what it shares)"
        elif name[:2] != SUPPORT:
            problems[line] = f"{where} (shared test helpers belong in tests/support/)"
    return list(problems.values())


def test_tests_import_shared_helpers_only_from_tests_support() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert any(f.name.startswith("test_") for f in files)
    problems = [problem for path in files for problem in misplaced_imports(path, TESTS.parent)]
    assert problems == [], "\n".join(problems)


def test_support_is_a_package_without_tests() -> None:
    support = TESTS / "support"
    assert (support / "__init__.py").is_file()
    assert sorted(p.name for p in support.rglob("test_*.py")) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.deploy.test_plan_apply import Stubs, context\n", 1),
        ("def f():\n    from tests.deploy import test_stack_state\n", 1),
        ("import tests.conftest\n", 1),
        ("from tests.templates.helpers import edit_yaml\n", 1),
        ("from .helpers import edit_yaml\n", 1),
        ("from . import test_other\n", 1),
        ("from tests.support.sample import edit_yaml\nfrom tests.support import clock\n", 0),
        ("import pytest\nfrom factorstack.cli import main\n", 0),
    ],
)
def test_the_layout_check_finds_each_kind(tmp_path: Path, source: str, expected: int) -> None:
    path = tmp_path / "tests" / "templates" / "test_probe.py"
    path.parent.mkdir(parents=True)
    path.write_text(source)
    problems = misplaced_imports(path, tmp_path)
    assert len(problems) == expected, problems
