"""Reading a department's CSV export: encodings, BOM, header checks, one native row at a time."""

from __future__ import annotations

import csv
import operator
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from adapters.base import FileSpec

# Undecodable bytes survive decoding as lone surrogates, so one bad row cannot hide the others.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


_SAMPLE = 256 * 1024  # bytes read to tell a file's encoding: some thousand rows


class FileError(ValueError):
    """The whole file cannot be read (missing, wrongly encoded, or its header lacks required columns)."""


def find_file(folder: Path, name: str) -> tuple[Path | None, str | None]:
    """The file `name` in `folder`, also when its name differs only by case; and a warning saying so."""
    exact = folder / name
    if exact.is_file():
        return exact, None
    alike = sorted(path for path in folder.iterdir() if path.name.lower() == name.lower() and path.is_file())
    if len(alike) > 1:
        raise FileError(f"{folder}: {', '.join(path.name for path in alike)} differ only by case; which is {name}?")
    if alike:
        return alike[0], f"{name} found as {alike[0].name}"
    return None, None


def check_file(path: Path, spec: FileSpec, encoding: str) -> list[str]:
    """What can be known of a file before its rows are read: raise FileError, or return its warnings."""
    rows = read_rows(path, spec, encoding)
    try:
        next(rows, None)
    finally:
        rows.close()
    with path.open(encoding=_python_encoding(encoding), errors="replace", newline="") as handle:
        header = [name.strip() for name in next(csv.reader(handle), [])]
    known = set(spec.required_headers)
    unknown = [name for name in header if name not in known]
    return [f"header has columns the spec does not know: {', '.join(unknown)}"] if unknown else []


def _python_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig") else encoding


def _looks_misencoded(path: Path, encoding: str) -> str | None:
    """Name a file written in the other of the two encodings departments use, once, instead of per row.

    Judged on the lines of a sample holding non-ASCII bytes: a UTF-8 file with one bad row still has
    other lines that decode, a GBK file has none; and a GBK file rarely has a line that is valid UTF-8.
    """
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    lines = [line for line in sample.split(b"\n")[: -1 if len(sample) == _SAMPLE else None] if not line.isascii()]
    expects_utf8 = _python_encoding(encoding) == "utf-8-sig"
    if expects_utf8:
        if (
            len(lines) >= 2
            and not any(_decodes(line, "utf-8") for line in lines)
            and all(_decodes(line, "gbk") for line in lines)
        ):
            return "this file looks GBK-encoded; the department exports UTF-8"
        return None
    if encoding.replace("_", "-").lower() in ("gbk", "gb2312", "gb18030") and (
        sample.startswith(b"\xef\xbb\xbf") or (len(lines) >= 2 and all(_decodes(line, "utf-8") for line in lines))
    ):
        return f"this file looks UTF-8-encoded; the department exports {encoding.upper()}"
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class NativeRow:
    line: int
    cells: dict[str, str] | None
    error: str | None
    raw: str


class SpecRow(NamedTuple):
    """A data row as the bulk import reads it: the cells of the spec's columns, in the spec's order."""

    line: int
    values: tuple[str, ...] | None
    error: str | None
    raw: str


def read_rows(path: Path, spec: FileSpec, encoding: str) -> Generator[NativeRow]:
    """Yield every data row of `path`, with the reason it cannot be used when it cannot."""
    for line, header, cells, error, raw in _lines(path, spec, encoding):
        if cells is None:
            yield NativeRow(line, None, error, raw)
        else:
            yield NativeRow(line, dict(zip(header, cells, strict=True)), None, raw)


def read_cells(path: Path, spec: FileSpec, encoding: str) -> Generator[SpecRow]:
    """`read_rows` for the bulk import: the same rows and faults, each row's cells picked in the spec's order."""
    pick: Callable[[list[str]], tuple[str, ...]] | None = None
    for line, header, cells, error, raw in _lines(path, spec, encoding):
        if cells is None:
            yield SpecRow(line, None, error, raw)
            continue
        if pick is None:
            # the last of equal header names, as the dict of `read_rows` keeps
            last = {name: index for index, name in enumerate(header)}
            pick = _picker([last[column.native] for column in spec.columns])
        yield SpecRow(line, pick(cells), None, raw)


def _picker(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if len(indices) == 1:
        index = indices[0]
        return lambda cells: (cells[index],)
    return operator.itemgetter(*indices)


_Line = tuple[int, list[str], list[str] | None, str | None, str]
"""(first line number, header, the cells or None, why not, the raw text)"""


def _lines(path: Path, spec: FileSpec, encoding: str) -> Generator[_Line]:
    if not path.is_file():
        raise FileError(f"{path}: file not found")
    misencoded = _looks_misencoded(path, encoding)
    if misencoded is not None:
        raise FileError(f"{path}: {misencoded}")
    with path.open(encoding=_python_encoding(encoding), errors="surrogateescape", newline="") as handle:
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
        width = len(header)
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                start, line = line + 1, reader.line_num
                yield start, header, None, f"not valid CSV (lines {start}-{line}): {error}", ""
                continue
            start, line = line + 1, reader.line_num
            raw = ",".join(cells)
            if not cells or all(cell == "" for cell in cells):
                continue
            if len(cells) != width:
                yield start, header, None, f"row has {len(cells)} cells, the header has {width}", raw
                continue
            # One search of the whole line first: nearly every line is clean, and a search per cell costs more.
            if _UNDECODABLE.search(raw):
                bad = next((name for name, cell in zip(header, cells, strict=True) if _UNDECODABLE.search(cell)), None)
                if bad is not None:
                    yield start, header, None, f"column {bad}: bytes that are not valid {encoding}", _printable(raw)
                    continue
            yield start, header, cells, None, raw


def _printable(raw: str) -> str:
    return raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
