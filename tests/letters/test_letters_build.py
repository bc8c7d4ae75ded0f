"""The shipped templates are exactly what letters._build_templates produces."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import letters
from letters._build_templates import BUILDERS, build

TEMPLATES = Path(letters.__file__).parent / "templates"


def _parts(path: Path) -> dict[str, bytes]:
    """The members of a .docx package and their content."""
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_every_builder_has_a_shipped_template() -> None:
    assert sorted(BUILDERS) == sorted(p.stem for p in TEMPLATES.glob("*.docx"))
    assert sorted(BUILDERS) == letters.template_names()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_shipped_template_matches_a_rebuild(tmp_path: Path, name: str) -> None:
    (rebuilt,) = [p for p in build(tmp_path) if p.stem == name]
    shipped = _parts(TEMPLATES / f"{name}.docx")
    fresh = _parts(rebuilt)
    assert sorted(shipped) == sorted(fresh)
    for part in ("word/document.xml", "word/styles.xml", "word/settings.xml"):
        assert shipped[part] == fresh[part], f"{part}: run python -m letters._build_templates"
    assert shipped == fresh


def test_rebuild_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in build(tmp_path / "a")]
    second = [p.read_bytes() for p in build(tmp_path / "b")]
    assert first == second


def test_command_line_writes_into_the_given_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "letters._build_templates", "--out", str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=120)
    assert (tmp_path / "acknowledgement.docx").is_file()
    assert "acknowledgement.docx" in result.stdout


def test_template_carries_no_stock_python_docx_metadata() -> None:
    parts = _parts(TEMPLATES / "acknowledgement.docx")
    assert not any("thumbnail" in name for name in parts)
    assert b"python-docx" not in parts["docProps/core.xml"]
