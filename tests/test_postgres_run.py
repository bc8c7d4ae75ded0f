"""The PostgreSQL run leaves out the database-free test packages (tests/conftest.py,
DATABASE_FREE); this keeps that rule true, failing as soon as one of their files can reach the
records database: an import of records (or sqlalchemy, alembic), of a web module that loads
records, of a test helper that does, the ``instance`` fixture, or the ``huiyin`` command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATABASE_FREE, ROOT

FORBIDDEN_ROOTS = {"records", "sqlalchemy", "alembic"}
FIXTURE_CALLS = {"getfixturevalue", "usefixtures"}


def imported_modules(tree: ast.AST) -> set[str]:
    """Absolute module names a file imports anywhere (``from a import b`` gives a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_file(name: str) -> Path | None:
    """The file of a project module such as ``tests.pg`` (None for a name in a module)."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _loads_records(module: str) -> bool:
    """True when importing a web module (in a fresh interpreter) loads records, the package
    that knows the records database."""
    code = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
            "print('records' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True,
                          check=True, cwd=ROOT, timeout=120)
    return done.stdout.strip() == "True"


def database_reach(files: list[Path]) -> list[str]:
    """Every way the given test files can reach the records database, one line each."""
    found: list[str] = []
    web_modules: dict[str, Path] = {}
    seen: set[Path] = set()
    todo = list(files)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in sorted(imported_modules(tree)):
            root = name.split(".")[0]
            if root in FORBIDDEN_ROOTS:
                found.append(f"{where} imports {name}")
            elif root == "web" and _module_file(name) is not None:
                web_modules.setdefault(name, path)
            elif root == "tests" and (helper := _module_file(name)) is not None:
                todo.append(helper)  # a helper (tests.pg, tests.web.signin): its imports count
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                if any(arg.arg == "instance" for arg in args):
                    found.append(f"{where}:{node.lineno} {node.name} takes the instance fixture")
            elif isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in FIXTURE_CALLS and any(
                        isinstance(a, ast.Constant) and a.value == "instance" for a in node.args):
                    found.append(f"{where}:{node.lineno} asks for the instance fixture")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value == "huiyin" or node.value.endswith("/huiyin")):
                found.append(f"{where}:{node.lineno} runs the huiyin command")
    for name, path in sorted(web_modules.items()):
        if _loads_records(name):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where} imports {name}, which loads records")
    return found


def test_the_database_free_packages_are_those_of_the_dependency_rule() -> None:
    for name in DATABASE_FREE:
        assert (ROOT / name).exists(), f"{name} named in DATABASE_FREE does not exist"
        if name.endswith(".py"):
            continue
        package = ROOT / name.removeprefix("tests/")
        for module in package.rglob("*.py"):
            roots = {n.split(".")[0] for n in imported_modules(ast.parse(module.read_text()))}
            assert not roots & (FORBIDDEN_ROOTS | {"web"}), module.relative_to(ROOT)


def test_no_database_free_test_can_reach_the_records_database() -> None:
    files = sorted(p for name in DATABASE_FREE for p in
                   ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py")))
    assert len(files) > 30
    reach = database_reach(files)
    assert not reach, (
        "these tests can touch the records database, but the PostgreSQL run leaves their "
        f"packages out (tests/conftest.py DATABASE_FREE); move them to tests/web: {reach}")


def test_the_check_sees_each_way_in(tmp_path: Path) -> None:
    planted = tmp_path / "test_planted.py"
    planted.write_text(
        "import subprocess\n"
        "from records import Database\n"
        "from web.services.instance import Instance\n"
        "from web import pgserver\n"
        "from tests.web.signin import add_users\n"
        "def test_a(instance):\n"
        "    pass\n"
        "def test_b(request):\n"
        "    request.getfixturevalue('instance')\n"
        "    subprocess.run(['huiyin', 'init'])\n",
        encoding="utf-8")
    reach = "\n".join(database_reach([planted]))
    assert "imports records" in reach
    assert "imports web.services.instance, which loads records" in reach
    assert "tests/web/signin.py imports" in reach  # through the helper
    assert "test_a takes the instance fixture" in reach
    assert "asks for the instance fixture" in reach
    assert "runs the huiyin command" in reach
    # a throwaway server of its own, not the records database
    assert "web.bench.pgserver" not in reach
