"""Rendering an :class:`~ijime_flow.survey.annual.AnnualReturn`: Markdown (:func:`to_markdown`), CSV (:func:`to_csv`)
and Excel (:func:`write_xlsx`, with the optional ``openpyxl``: ``pip install 'ijime-flow[xlsx]'``).

Each table: a header of the survey's Japanese names (first the row id, 区分 and category columns), a second header line
with the column ids (English), then one row per category — its id, Japanese and English names and the counts. The
ids are those ``--explain TABLE ROW COL`` takes. After the tables: the cases that did not verify (not counted), the
survey facts counted cases lack, and the schools with no school type.
"""

from __future__ import annotations

import csv
import importlib
import io
from pathlib import Path
from typing import Any

from ..clock import jst
from ..errors import IjimeFlowError
from .annual import AnnualReturn, Table, school_year_bounds

__all__ = ["XlsxUnavailable", "require_openpyxl", "summary_lines", "to_csv", "to_markdown", "write_xlsx"]

SHEETS = {"recognised": "表1 認知件数", "forms": "表2 態様", "discovered_through": "表3 発見のきっかけ",
          "resolution_status": "表4 解消状況", "serious_incidents": "表5 重大事態"}
FACT_JA = {"forms": "態様", "discovered_through": "発見のきっかけ", "grade": "学年"}
UNVERIFIED_TITLE = ("検証できなかった事案（集計に含めない）", "cases that did not verify (not counted)")
MISSING_TITLE = ("未記録の項目（未記録・学年不明として集計）", "survey facts not recorded (counted as unrecorded / unknown)")
UNKNOWN_TITLE = ("校種不明の学校（その年度の school_year 事案がない）",
                 "schools with no school type (no school_year case for the year)")


class XlsxUnavailable(IjimeFlowError):
    """``--format xlsx`` without openpyxl installed."""


def summary_lines(result: AnnualReturn) -> list[str]:
    """The scope, period and reference time, and what was counted, one line each, Japanese first."""
    start, end = school_year_bounds(result.year)
    scope = result.school if result.school is not None else "全校 / every school in the store"
    return [f"対象 / scope: {scope}",
            f"期間 / school year {result.year}: {start.date().isoformat()} – {end.date().replace(day=31, month=3).isoformat()}"
            " (Asia/Tokyo)",
            f"基準日時 / as of: {jst(result.as_of)} JST",
            f"認知件数 / cases recognised: {len(result.cases)}　重大事態 / serious incidents: {len(result.serious)}",
            f"検証できなかった事案 / cases that did not verify: {len(result.unverified)}"]


def _header(table: Table) -> tuple[list[str], list[str]]:
    return (["id", "区分", "category", *(c.ja for c in table.cols)], ["", "", "", *(c.id for c in table.cols)])


def _rows(table: Table) -> list[list[str]]:
    return [[r.id, r.ja, r.en, *(str(table.count(r.id, c.id)) for c in table.cols)] for r in table.rows]


def _unverified_rows(result: AnnualReturn) -> list[list[str]]:
    return [[u.case_id, u.workflow, u.school or "", ", ".join(u.kinds), "; ".join(u.problems)] for u in result.unverified]


def _missing_rows(result: AnnualReturn) -> list[list[str]]:
    return [[m.case_id, m.school, m.fact, FACT_JA.get(m.fact, m.fact)] for m in result.missing]


UNVERIFIED_HEADER = ["事案ID / case", "ワークフロー / workflow", "学校 / school", "問題の種類 / kinds", "内容 / problems"]
MISSING_HEADER = ["事案ID / case", "学校 / school", "fact", "項目"]


# -- Markdown ----------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]], second: list[str] | None = None) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(h) for h in second) + " |"] if second is not None else []
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def to_markdown(result: AnnualReturn) -> str:
    """The return as Markdown: a title, the scope, each table (the column ids on the line under the header), then
    the cases that did not verify, the facts not recorded and the schools with no school type."""
    lines = [f"# いじめの状況（児童生徒の問題行動・不登校等生徒指導上の諸課題に関する調査） {result.year}年度",
             f"# Bullying section of the national survey, school year {result.year}", ""]
    lines += [f"- {line}" for line in summary_lines(result)]
    for n, table in enumerate(result.tables, 1):
        header, second = _header(table)
        lines += ["", f"## 表{n} {table.ja} / {table.en}", "", f"table: `{table.id}`", ""]
        lines += _md_table(header, _rows(table), second)
    lines += ["", f"## {UNVERIFIED_TITLE[0]} / {UNVERIFIED_TITLE[1]}", ""]
    lines += _md_table(UNVERIFIED_HEADER, _unverified_rows(result)) if result.unverified else ["なし / none"]
    lines += ["", f"## {MISSING_TITLE[0]} / {MISSING_TITLE[1]}", ""]
    lines += _md_table(MISSING_HEADER, _missing_rows(result)) if result.missing else ["なし / none"]
    lines += ["", f"## {UNKNOWN_TITLE[0]} / {UNKNOWN_TITLE[1]}", ""]
    lines += [f"- {s}" for s in result.unknown_type_schools] or ["なし / none"]
    return "\n".join(lines) + "\n"


# -- CSV ------------------------------------------------------------------------------------------------
def to_csv(result: AnnualReturn) -> str:
    """The return as one CSV text: per table a title row (``表N``, Japanese, English, table id), the header, the column
    ids, its rows and an empty row; then the same blocks for the cases that did not verify and the facts not recorded."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for n, table in enumerate(result.tables, 1):
        header, second = _header(table)
        w.writerows([[f"表{n}", table.ja, table.en, table.id], header, second, *_rows(table), []])
    w.writerows([[UNVERIFIED_TITLE[0], UNVERIFIED_TITLE[1], "", "unverified"], UNVERIFIED_HEADER, *_unverified_rows(result),
                 []])
    w.writerows([[MISSING_TITLE[0], MISSING_TITLE[1], "", "missing"], MISSING_HEADER, *_missing_rows(result), []])
    w.writerows([[UNKNOWN_TITLE[0], UNKNOWN_TITLE[1], "", "unknown_type_schools"], *([s] for s in result.unknown_type_schools)])
    return out.getvalue()


# -- Excel ------------------------------------------------------------------------------------------------
def require_openpyxl() -> Any:
    try:
        return importlib.import_module("openpyxl")
    except ImportError:
        raise XlsxUnavailable("Excel 形式での出力には openpyxl が必要です: pip install 'ijime-flow[xlsx]' / --format xlsx needs"
                              " openpyxl: pip install 'ijime-flow[xlsx]'") from None


def _sheet(book: Any, title: str, rows: list[list[Any]], *, bold: int = 1) -> None:
    sheet = book.create_sheet(title=title[:31])
    font = importlib.import_module("openpyxl.styles").Font(bold=True)
    for i, row in enumerate(rows, 1):
        sheet.append(row)
        if i <= bold:
            for cell in sheet[i]:
                cell.font = font
    for column in sheet.columns:
        width = max((len(str(c.value or "")) for c in column), default=4)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(6, width * 2))


def write_xlsx(result: AnnualReturn, path: Path) -> None:
    """One sheet per table (the header row and the column ids in bold, counts as numbers), then a sheet for the
    cases that did not verify, one for the facts not recorded, and 概要 (the scope and the reference time)."""
    openpyxl = require_openpyxl()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in result.tables:
        header, second = _header(table)
        rows: list[list[Any]] = [[r.id, r.ja, r.en, *(table.count(r.id, c.id) for c in table.cols)] for r in table.rows]
        _sheet(book, SHEETS.get(table.id, table.id), [header, second, *rows], bold=2)
    _sheet(book, "検証できなかった事案", [UNVERIFIED_HEADER, *_unverified_rows(result)])
    _sheet(book, "未記録の項目", [MISSING_HEADER, *_missing_rows(result)])
    overview = [[f"{result.year}年度 いじめの状況 / bullying, school year {result.year}"],
                *([line] for line in summary_lines(result))]
    overview += [[f"{UNKNOWN_TITLE[0]} / {UNKNOWN_TITLE[1]}"], *([s] for s in result.unknown_type_schools)]
    _sheet(book, "概要", overview)
    book.save(path)
