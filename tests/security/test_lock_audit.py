"""The dependency audit's logic (tests/security/lock_audit.py), on project documents shaped as
the registry serves them; the live run against requirements.lock is CI's step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.security.lock_audit import audit, main, pins

LOCK = """\
# generated
flask==3.1.3
ecdsa==0.19.2 ; python_version >= "3.8"
numpy==2.4.6
uvicorn[standard]==0.30.0
-e .
gone==1.0
"""
PROJECTS: dict[str, dict[str, Any]] = {
    "flask": {"info": {"version": "3.1.3"}, "vulnerabilities": []},
    "ecdsa": {"info": {"version": "0.19.2"}, "vulnerabilities": [
        {"id": "GHSA-wj6h-64fc-37mp", "aliases": ["CVE-2024-23342"]},
        {"id": "PYSEC-2020-1", "withdrawn": "2021-01-01"}]},
    "numpy": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
    "uvicorn": {"info": {"version": "0.30.0"}, "vulnerabilities": [{"id": "GHSA-x"}]},
}


def test_pins_are_read_without_markers_extras_or_options() -> None:
    assert pins(LOCK) == [("flask", "3.1.3"), ("ecdsa", "0.19.2"), ("numpy", "2.4.6"),
                          ("uvicorn", "0.30.0"), ("gone", "1.0")]


def test_vulnerable_clean_and_unauditable_pins_are_told_apart() -> None:
    result = audit(pins(LOCK), PROJECTS.get)
    assert result.clean == ["flask==3.1.3"]
    assert result.vulnerable == {"ecdsa==0.19.2": ["GHSA-wj6h-64fc-37mp"],
                                 "uvicorn==0.30.0": ["GHSA-x"]}
    assert set(result.unknown) == {"numpy==2.4.6", "gone==1.0"}
    assert "2.5.5" in result.unknown["numpy==2.4.6"]


def test_the_exit_status(tmp_path: Path, monkeypatch: Any) -> None:
    import tests.security.lock_audit as module

    monkeypatch.setattr(module, "fetch_from_registry", PROJECTS.get)
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    assert main([str(lock)]) == 1  # vulnerable pins
    lock.write_text("flask==3.1.3\nnumpy==2.4.6\n")
    assert main([str(lock)]) == 0
    assert main([str(lock), "--strict"]) == 1  # numpy could not be audited
