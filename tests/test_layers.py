"""The layers of DESIGN.md, read from the imports and calls of every module of the tree.

    ocr  search  letters  records      import none of each other (records: none at all), no web
          \\      |      /     |        and no Flask, click or gunicorn
           web.services                every rule: no Flask, werkzeug, click, gunicorn; never the
              |       \\                 app, the CLI, the worker or the benchmarks
       web.app   web.cli   web.worker  entry points: call services; views never import other
                                       views; nothing here writes through records itself
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr", "search", "letters", "records")
FRAMEWORKS = {"flask", "flask_login", "flask_wtf", "werkzeug", "click", "gunicorn", "itsdangerous"}
# Functions of records that change the records: the entry points reach them through a service.
RECORDS_WRITES = {
    "record", "open_case", "link_letter", "transition", "set_flags", "record_hearing", "rate",
    "register_letter", "record_text", "attach_petitioner", "propose_fields", "set_state",
    "record_page", "assign_owner", "mark_accusation", "set_route", "route_case", "supervise",
    "resolve", "instruct", "carry_out", "add_unit", "add_user", "copy_records", "enqueue",
    "finish", "fail",
}


@dataclass
class Module:
    """What one module imports and which records functions it calls."""

    path: Path
    name: str
    imports: set[str] = field(default_factory=set)  # dotted module names
    records_calls: set[str] = field(default_factory=set)
    session_writes: int = 0


def read(path: Path, text: str | None = None) -> Module:
    """The imports (absolute, and relative resolved) and the records-writing calls of a file."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    module = Module(path, name)
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    records_names: set[str] = set()  # local names bound to records modules or functions
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            module.imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: len(name.split(".")) - node.level + (
                    1 if parts[-1] == "__init__" else 0)]
                base = ".".join([*package, *([base] if base else [])])
            module.imports.add(base)
            module.imports.update(f"{base}.{alias.name}" for alias in node.names)
            if base.split(".")[0] == "records":
                records_names.update(alias.asname or alias.name for alias in node.names)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id in records_names and func.attr in RECORDS_WRITES):
            module.records_calls.add(f"{func.value.id}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id in records_names & RECORDS_WRITES:
            module.records_calls.add(func.id)
        elif (isinstance(func, ast.Attribute) and func.attr in ("add", "add_all", "delete")
              and isinstance(func.value, ast.Name) and func.value.id in ("session", "db")):
            module.session_writes += 1
    return module


def modules(*folders: str) -> list[Module]:
    """Every module below these folders of the tree."""
    return [read(p) for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def roots(module: Module) -> set[str]:
    return {name.split(".")[0] for name in module.imports if name}


def under(module: Module, *prefixes: str) -> set[str]:
    """The modules it imports that are one of these packages or inside them."""
    return {i for i in module.imports for p in prefixes if i == p or i.startswith(p + ".")}


@pytest.mark.parametrize("package", PACKAGES)
def test_the_packages_import_no_other_project_package_and_no_framework(package: str) -> None:
    others = {"ocr", "search", "letters", "records", "web"} - {package}
    for module in modules(package):
        assert not roots(module) & others, (module.name, roots(module) & others)
        assert not roots(module) & FRAMEWORKS, (module.name, roots(module) & FRAMEWORKS)


def test_services_import_no_framework_and_no_entry_point() -> None:
    for module in modules("web/services"):
        assert not roots(module) & FRAMEWORKS, (module.name, roots(module) & FRAMEWORKS)
        wrong = under(module, "web.app", "web.cli", "web.worker", "web.bench")
        assert not wrong, (module.name, wrong)


def test_the_worker_imports_no_framework_and_no_page_or_command() -> None:
    for module in modules("web/worker"):
        assert not roots(module) & FRAMEWORKS, (module.name, roots(module) & FRAMEWORKS)
        assert not under(module, "web.app", "web.cli"), module.name


def test_views_never_import_other_views() -> None:
    for module in modules("web/app/views"):
        others = {i for i in under(module, "web.app.views")
                  if i not in ("web.app.views", "web.app.views.instance")
                  and not i.startswith(module.name)}
        assert not others, (module.name, others)


def test_the_command_line_uses_no_web_framework_and_no_page() -> None:
    for module in modules("web/cli"):
        assert not roots(module) & (FRAMEWORKS - {"click"}), module.name
        # `huiyin serve` starts the server, the one part of the app the command line runs
        assert under(module, "web.app") <= {"web.app", "web.app.server"}, module.name


@pytest.mark.parametrize("folder", ["web/app", "web/cli"])
def test_the_entry_points_never_write_through_records(folder: str) -> None:
    for module in modules(folder):
        assert not module.records_calls, (module.name, module.records_calls)
        assert not module.session_writes, module.name


def test_the_layer_test_sees_a_violation() -> None:
    """The checks above fail on a module that breaks them (as web/ did before the services)."""
    probe = read(ROOT / "web" / "cli" / "probe.py",
                 "from records import cases\nfrom flask import Flask\n"
                 "from ..app.views import letters\n\n"
                 "def f(session, case):\n    cases.transition(session, case)\n"
                 "    session.add(case)\n")
    assert probe.records_calls == {"cases.transition"} and probe.session_writes == 1
    assert "flask" in roots(probe) and under(probe, "web.app.views") == {
        "web.app.views", "web.app.views.letters"}


def test_every_module_of_web_is_in_a_layer() -> None:
    """web/ is layers, not a flat heap of modules (as it was: 41 of them side by side)."""
    loose = [p.name for p in (ROOT / "web").glob("*.py") if p.name != "__init__.py"]
    assert not loose
    for layer in ("services", "app", "cli", "worker", "bench"):
        assert list((ROOT / "web" / layer).glob("*.py")), layer
