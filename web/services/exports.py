"""Lists as Excel workbooks: the register, the case lists and the statistics, as filtered.

One function makes every export, so each opens the same way in the office's Excel or WPS: a
title row, bold headers, the header frozen, columns as wide as their text (CJK counted double),
dates as dates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 100_000  # an export past this is a backup, not a list: narrow the filters
MAX_WIDTH = 60


class ExportTooLarge(Exception):
    """More rows than an export holds; the message says how to narrow the list."""


def _width(value: object) -> int:
    text = value.isoformat() if isinstance(value, dt.date) else str(value or "")
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """An .xlsx file: the title (with when it was made), the headers, then the rows."""
    rows = list(rows)
    if len(rows) > MAX_ROWS:
        raise ExportTooLarge(f"共 {len(rows)} 行，超过导出上限 {MAX_ROWS} 行：请先缩小筛选范围")
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = title[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(headers))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center")
    widths = [_width(h) for h in headers]
    for row in rows:
        values = [("" if v is None else v) for v in row]
        sheet.append(values)
        for n, value in enumerate(values[: len(widths)]):
            widths[n] = max(widths[n], _width(value))
    for n, width in enumerate(widths):
        letter = sheet.cell(row=2, column=n + 1).column_letter
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, width + 2)
    for column in sheet.iter_cols(min_row=3):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

