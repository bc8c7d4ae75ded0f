"""The package's shape: a small public face, one engine module, no project or web imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import search

PACKAGE = Path(search.__file__).parent
PROJECT = {"records", "ocr", "letters", "web"}


def imported_roots(path: Path) -> set[str]:
    """Top-level names a module imports (absolute imports)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_project_package_and_no_flask() -> None:
    for module in PACKAGE.glob("*.py"):
        roots = imported_roots(module)
        assert not roots & PROJECT, module.name
        assert "flask" not in roots, module.name


def test_only_the_engine_module_imports_whoosh() -> None:
    users = {m.name for m in PACKAGE.glob("*.py") if "whoosh" in imported_roots(m)}
    assert users == {"_whoosh.py"}


def test_only_the_engine_module_imports_psycopg() -> None:
    users = {m.name for m in PACKAGE.glob("*.py") if "psycopg" in imported_roots(m)}
    assert users == {"_postgres.py"}


def test_public_names_have_docstrings() -> None:
    for name in search.__all__:
        assert getattr(search, name).__doc__, name


def test_import_is_quiet_and_does_not_load_the_engine() -> None:
    code = (
        "import sys, search; assert 'whoosh' not in sys.modules; "
        "assert 'psycopg' not in sys.modules; import search._whoosh; print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok" and not out.stderr
