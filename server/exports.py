"""Reports as files: CSV for a Russian Excel (UTF-8 with BOM, «;»-separated, decimal comma;
a decimal point when the page is in English) and XLSX (openpyxl).

Values keep their type in XLSX (numbers stay numbers, shares are formatted as
percentages); verdicts become the Russian wording of the norms (000:264-266).
"""
from __future__ import annotations

import csv
import io

from server.i18n import _, current_language
from server.report_data import Report, Table

VERDICT = {True: "Соответствует нормативу", False: "Не соответствует нормативу"}


def cell_text(value, kind: str, lang_decimal: str = ",") -> str:
    """How a value reads on the page."""
    if value is None or value == "":
        return "—"
    if kind == "verdict":
        return _(VERDICT[bool(value)])
    if kind == "yesno":
        return _("да") if value else _("нет")
    if kind == "share":
        return f"{value * 100:.1f}".replace(".", lang_decimal) + " %"
    if kind in ("min", "num"):
        return f"{value:.1f}".replace(".", lang_decimal)
    return str(value)


def _raw(value, kind: str):
    if kind == "verdict":
        return None if value is None else _(VERDICT[bool(value)])
    if kind == "yesno":
        return None if value is None else (_("да") if value else _("нет"))
    return value


def _csv_cell(value, decimal: str):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6)).replace(".", decimal)
    return value


def to_csv(report: Report) -> bytes:
    """Opens by double click in Excel set to Russian: «;» between cells, «48,4» for numbers."""
    decimal = "," if current_language() == "ru" else "."
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([report.title, report.subtitle])
    for table in report.tables:
        w.writerow([])
        w.writerow([table.title])
        w.writerow([label for _k, label, _kind in table.columns])
        for row in table.rows:
            w.writerow([_csv_cell(_raw(row.get(k), kind), decimal) for k, _l, kind in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for i, table in enumerate(report.tables, 1):
        ws = wb.create_sheet(_sheet_name(table, i))
        ws.append([report.title, report.subtitle])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([table.title])
        ws.append([label for _k, label, _kind in table.columns])
        for cell in ws[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            ws.append([_raw(row.get(k), kind) for k, _l, kind in table.columns])
            for (_k, _l, kind), cell in zip(table.columns, ws[ws.max_row]):
                if kind == "share" and cell.value is not None:
                    cell.number_format = "0.0%"
                elif kind in ("min", "num") and cell.value is not None:
                    cell.number_format = "0.0"
        for j, (_k, label, kind) in enumerate(table.columns, 1):
            ws.column_dimensions[get_column_letter(j)].width = 34 if kind == "text" else min(24, max(10, len(label) // 2))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(table: Table, i: int) -> str:
    bad = '[]:*?/\\'
    name = "".join(ch for ch in table.title if ch not in bad)[:28]
    return f"{i} {name}"[:31]
