"""Reading a department's CSV export: encodings, BOM, header checks, one native row at a time."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapters.base import FileSpec

# Undecodable bytes survive decoding as lone surrogates, so one bad row cannot hide the others.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class FileError(ValueError):
    """The whole file cannot be read (missing, or its header lacks required columns)."""


@dataclass(frozen=True)
class NativeRow:
    line: int
    cells: dict[str, str] | None
    error: str | None
    raw: str


def read_rows(path: Path, spec: FileSpec, encoding: str) -> Iterator[NativeRow]:
    """Yield every data row of `path`, with the reason it cannot be used when it cannot."""
    if not path.is_file():
        raise FileError(f"{path}: file not found")
    python_encoding = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig") else encoding
    with path.open(encoding=python_encoding, errors="surrogateescape", newline="") as handle:
        # strict: a quote opened and never closed is an error, not a cell swallowing the rest of the file
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise FileError(f"{path}: the header line is not valid CSV: {error}") from None
        if header is None:
            raise FileError(f"{path}: file is empty (no header line)")
        header = [name.strip() for name in header]
        missing = [name for name in spec.required_headers if name not in header]
        if missing:
            raise FileError(f"{path}: header lacks columns {', '.join(missing)} (found {', '.join(header)})")
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                start, line = line + 1, reader.line_num
                yield NativeRow(start, None, f"not valid CSV (lines {start}-{line}): {error}", "")
                continue
            start, line = line + 1, reader.line_num
            yield from _row(start, header, cells, encoding)


def _row(start: int, header: list[str], cells: list[str], encoding: str) -> Iterator[NativeRow]:
    raw = ",".join(cells)
    if not cells or all(cell == "" for cell in cells):
        return
    if len(cells) != len(header):
        yield NativeRow(start, None, f"row has {len(cells)} cells, the header has {len(header)}", raw)
        return
    bad = next((name for name, cell in zip(header, cells, strict=True) if _UNDECODABLE.search(cell)), None)
    if bad is not None:
        yield NativeRow(start, None, f"column {bad}: bytes that are not valid {encoding}", _printable(raw))
        return
    yield NativeRow(start, dict(zip(header, cells, strict=True)), None, raw)


def _printable(raw: str) -> str:
    return raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
