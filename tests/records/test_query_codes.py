"""Migration 0015: every matter already on file gets its own query code (§21 ¶2)."""

from __future__ import annotations

import re

from sqlalchemy import text

from records import Database


def test_matters_on_file_get_distinct_codes_and_the_migration_goes_back(db: Database) -> None:
    db.migrate("0013", down=True)
    with db.engine.begin() as connection:
        for n in range(1, 4):
            connection.execute(text(
                'INSERT INTO "case" (case_no, title, status, opened_on, created_at, updated_at,'
                " version) VALUES (:no, '', 'registered', '2026-11-02', '2026-11-02 08:00:00',"
                " '2026-11-02 08:00:00', 1)"), {"no": f"XF-2026-{n:06d}"})
    db.upgrade()
    with db.engine.connect() as connection:
        codes = connection.execute(text('SELECT query_code FROM "case"')).scalars().all()
    assert len(set(codes)) == 3
    assert all(re.fullmatch("[0-9A-HJKMNP-TV-Z]{12}", c) for c in codes)
    db.migrate("0013", down=True)  # and back: the columns and the table go
    with db.engine.connect() as connection:
        assert connection.execute(text('SELECT count(*) FROM "case"')).scalar() == 3
    db.upgrade()
