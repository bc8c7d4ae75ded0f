"""Scans OCR'd once per session for the review tests; each test works on its own copy.

Two letters are read for real (a JPEG and a one-page PDF drawn by ocr.synthetic), the office
has the test users, the categories and one routing row, so saving a review can open and route
a case. Copying the folder per test keeps the slow OCR out of every test but one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from records import Category, Letter, Unit, routing
from tests.web.conftest import Scan
from tests.web.signin import HANDLER_UNIT, add_users
from web.services.instance import Instance
from web.services.pipeline import ingest_file

CATEGORY = "征地拆迁"  # routed to HANDLER_UNIT


@dataclass(frozen=True)
class Reviewable:
    home: Path
    jpeg: int  # letter ids
    pdf: int
    jpeg_scan: Scan
    pdf_scan: Scan


def build(home: Path, scans: list[Scan]) -> Reviewable:
    """An instance with the JPEG and PDF scans ingested (OCR), users, categories, a route."""
    jpeg_scan = next(s for s in scans if s.path.suffix == ".jpg")
    pdf_scan = next(s for s in scans if s.path.suffix == ".pdf")
    with Instance(home) as instance:
        instance.create()
        ids = []
        for scan in (jpeg_scan, pdf_scan):
            result = ingest_file(instance, scan.path, actor="clerk1")
            assert result.letter_id is not None, result.error
            ids.append(result.letter_id)
    add_users(home)
    with Instance(home) as instance, instance.db.session() as session:
        session.add_all(Category(name=name) for name in (CATEGORY, "劳动社保", "其他"))
        unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        routing.set_route(session, township="", category=CATEGORY, unit=unit, lead=None,
                          actor="test")
    return Reviewable(home, ids[0], ids[1], jpeg_scan, pdf_scan)


def copy(template: Reviewable, folder: Path) -> Reviewable:
    """A private copy of the instance folder (database, originals, index)."""
    home = folder / "instance"
    shutil.copytree(template.home, home)
    return Reviewable(home, template.jpeg, template.pdf, template.jpeg_scan, template.pdf_scan)


def letter_version(home: Path, letter_id: int) -> int:
    with Instance(home) as instance, instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        return letter.version
