"""CSV and Excel versions of the tables the explorer shows."""
from __future__ import annotations

import io
import re

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

from systemfel.base.spreadsheet import ILLEGAL_XML, inert



def _flat(value):
    """Lists and dicts become readable text, so a cell holds one value."""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(_flat)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so Excel opens å, ä and ö correctly; no cell can run as a formula."""
    return flatten(frame).map(inert).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, sheet: str = "Data") -> bytes:
    """An .xlsx where every text stays text: a quote starting with '=' must not become a formula."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = re.sub(r"[\[\]:*?/\\]", "", sheet)[:31] or "Data"
    worksheet.append([str(c) for c in frame.columns])
    for row in flatten(frame).itertuples(index=False):
        values = []
        for value in row:
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                values.append(None)
            elif isinstance(value, str):
                values.append(ILLEGAL_XML.sub("", value))
            elif hasattr(value, "item"):
                values.append(value.item())  # numpy scalar -> Python
            else:
                values.append(value)
        worksheet.append(values)
        for cell in worksheet[worksheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
