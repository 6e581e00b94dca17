"""Reading departments' CSV exports: BOM, column order, GBK, undecodable bytes, line numbers, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import housing, registry
from adapters.base import FileSpec
from adapters.csvfiles import FileError, NativeRow, read_rows

PERSONS = registry.PERSONS
RENOVATION = housing.RENOVATION

PERSONS_HEADER = "sfzh,xm,xb,csrq,hh,yhzgx,lxdh"
OUYANG = "35050219900101123X,欧阳明,1,1990-01-01,350502000007,01,13805951234"  # spec example
WIFE = "350502198503151027,林秀英,2,1985-03-15,350502000007,02,"

RENOVATION_HEADER = "xmbh,sfzh,hh,gzlx,mj,bzje,zt,lxrq,bz"
REPAIR = "GZ-0009,35050219900101123X,350502000007,3,68.0,42000,3,2025-10-08,墙体加固"  # spec example
REBUILD = "GZ-0010,350502198503151027,350502000008,2,90.5,60000,2,2026-01-15,原址翻建"
NEW_BUILD = "GZ-0011,350502194503081016,350502000009,1,75.0,80000,1,2026-03-02,异地新建（地质灾害）"

BOM = b"\xef\xbb\xbf"


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def lines(*rows: str, newline: str = "\n") -> str:
    return "".join(f"{row}{newline}" for row in rows)


def read(path: Path, spec: FileSpec = PERSONS, encoding: str = "utf-8-sig") -> list[NativeRow]:
    return list(read_rows(path, spec, encoding))


# --- headers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "UTF-8", "utf_8"])
def test_utf8_file_with_bom_is_read_without_the_bom_in_the_first_column(tmp_path: Path, encoding: str) -> None:
    # given a UTF-8 persons file starting with a byte-order mark
    path = write(tmp_path, "persons.csv", BOM + lines(PERSONS_HEADER, OUYANG).encode())
    # when read under any spelling of UTF-8
    rows = read(path, encoding=encoding)
    # then the first column is found under its plain name and the row parses
    assert [row.error for row in rows] == [None]
    assert rows[0].cells is not None
    assert rows[0].cells["sfzh"] == "35050219900101123X"
    assert PERSONS.parse(rows[0].cells)["name"] == "欧阳明"


def test_utf8_file_without_bom_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "persons.csv", lines(PERSONS_HEADER, OUYANG).encode())
    rows = read(path)
    assert rows[0].cells is not None
    assert rows[0].cells["xm"] == "欧阳明"


def test_columns_in_another_order_and_an_unknown_extra_column_are_fine(tmp_path: Path) -> None:
    # given the columns shuffled and a column the spec does not know
    header = "beizhu,lxdh,yhzgx,hh,csrq,xb,xm,sfzh"
    row = "迁入,13805951234,01,350502000007,1990-01-01,1,欧阳明,35050219900101123X"
    path = write(tmp_path, "persons.csv", lines(header, row).encode())
    # when read and parsed
    [native] = read(path)
    assert native.cells is not None
    parsed = PERSONS.parse(native.cells)
    # then each value is found by its name, not its position, and the extra column is left out
    assert (parsed["id_number"], parsed["name"], parsed["household_number"], parsed["phone"]) == (
        "35050219900101123X",
        "欧阳明",
        "350502000007",
        "13805951234",
    )
    assert "beizhu" not in parsed


def test_header_names_padded_with_spaces_are_recognised(tmp_path: Path) -> None:
    path = write(tmp_path, "persons.csv", lines(" sfzh , xm,xb,csrq,hh ,yhzgx,lxdh", OUYANG).encode())
    [native] = read(path)
    assert native.cells is not None
    assert native.cells["sfzh"] == "35050219900101123X"


@pytest.mark.parametrize("absent", ["sfzh", "csrq", "lxdh"])
def test_missing_required_column_raises_file_error_naming_it(tmp_path: Path, absent: str) -> None:
    # given a header without one of the spec's columns
    names = PERSONS_HEADER.split(",")
    index = names.index(absent)
    cells = OUYANG.split(",")
    header = ",".join(names[:index] + names[index + 1 :])
    row = ",".join(cells[:index] + cells[index + 1 :])
    path = write(tmp_path, "persons.csv", lines(header, row).encode())
    # when read, then the whole file is refused, naming the missing column
    with pytest.raises(FileError, match=rf"lacks columns {absent}\b"):
        read(path)


def test_every_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "persons.csv", lines("sfzh,xm,hh", "35050219900101123X,欧阳明,350502000007").encode())
    with pytest.raises(FileError) as refused:
        read(path)
    assert all(name in str(refused.value) for name in ("xb", "csrq", "yhzgx", "lxdh"))


@pytest.mark.parametrize("content", [b"", BOM], ids=["empty", "bom-only"])
def test_empty_file_raises_file_error(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "persons.csv", content)
    with pytest.raises(FileError, match="empty"):
        read(path)


def test_missing_file_raises_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="not found"):
        read(tmp_path / "persons.csv")


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "persons.csv", lines(PERSONS_HEADER).encode())
    assert read(path) == []


# --- GBK (housing) -------------------------------------------------------------------------------------


def test_gbk_housing_file_decodes_chinese_text(tmp_path: Path) -> None:
    # given a housing renovation file encoded in GBK, as the spec says housing exports
    content = lines(RENOVATION_HEADER, REPAIR, NEW_BUILD).encode("gbk")
    assert "墙体加固".encode() not in content  # really GBK, not UTF-8
    path = write(tmp_path, "wfgz.csv", content)
    # when read with the department's declared encoding
    rows = read(path, RENOVATION, housing.DEPARTMENT.encoding)
    # then the Chinese remarks come back as written
    assert [row.cells["bz"] for row in rows if row.cells] == ["墙体加固", "异地新建（地质灾害）"]
    assert [row.error for row in rows] == [None, None]


def test_gbk_row_with_undecodable_bytes_is_yielded_with_an_error_naming_the_column(tmp_path: Path) -> None:
    # given a GBK file whose middle row's remarks hold bytes no GBK text contains
    bad = "GZ-0010,350502198503151027,350502000008,2,90.5,60000,2,2026-01-15,".encode("gbk") + b"\xff\xfe"
    content = lines(RENOVATION_HEADER, REPAIR).encode("gbk") + bad + b"\n" + lines(NEW_BUILD).encode("gbk")
    path = write(tmp_path, "wfgz.csv", content)
    # when read
    first, middle, last = read(path, RENOVATION, "gbk")
    # then the middle row is kept as a bad row naming the column, and its neighbours are intact
    assert middle.cells is None
    assert middle.error is not None
    assert "column bz" in middle.error
    assert "gbk" in middle.error
    assert middle.line == 3
    assert middle.raw.startswith("GZ-0010,")
    assert (first.error, last.error) == (None, None)
    assert first.cells is not None and last.cells is not None
    assert (first.cells["bz"], last.cells["bz"]) == ("墙体加固", "异地新建（地质灾害）")
    assert (first.line, last.line) == (2, 4)


def test_undecodable_bytes_in_a_key_column_name_that_column(tmp_path: Path) -> None:
    # given an invalid byte in the owner's id of a GBK row
    bad = b"GZ-0010,35050219850315102\xff,350502000008,2,90.5,60000,2,2026-01-15,\n"
    path = write(tmp_path, "wfgz.csv", lines(RENOVATION_HEADER).encode("gbk") + bad)
    [row] = read(path, RENOVATION, "gbk")
    assert row.error is not None
    assert row.error.startswith("column sfzh:")


def test_gbk_text_in_a_utf8_department_file_is_a_bad_row_not_a_crash(tmp_path: Path) -> None:
    # given a registry file (UTF-8) where one row was saved in GBK by mistake
    content = lines(PERSONS_HEADER, OUYANG).encode() + lines(WIFE).encode("gbk")
    path = write(tmp_path, "persons.csv", content)
    # when read
    good, wrong = read(path)
    # then the GBK row is reported against the name column, the UTF-8 row is fine
    assert good.error is None
    assert wrong.cells is None
    assert wrong.error is not None
    assert wrong.error.startswith("column xm:")


# --- row shape, blank lines and line numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    "short_or_long",
    [
        "35050219900101123X,欧阳明,1,1990-01-01,350502000007,01",
        "35050219900101123X,欧阳明,1,1990-01-01,350502000007,01,13805951234,多余",
    ],
    ids=["too-few", "too-many"],
)
def test_row_with_the_wrong_number_of_cells_is_yielded_with_an_error(tmp_path: Path, short_or_long: str) -> None:
    # given a row with one cell too few or too many between two good rows
    path = write(tmp_path, "persons.csv", lines(PERSONS_HEADER, WIFE, short_or_long, OUYANG).encode())
    # when read
    rows = read(path)
    # then it is kept as a bad row with the counts, and the rows around it are fine
    assert [row.error is None for row in rows] == [True, False, True]
    bad = rows[1]
    count = len(short_or_long.split(","))
    assert bad.error == f"row has {count} cells, the header has 7"
    assert bad.cells is None
    assert bad.line == 3
    assert bad.raw == short_or_long


def test_line_numbers_are_physical_lines_with_the_header_as_line_1(tmp_path: Path) -> None:
    # given blank lines and a remark spanning two physical lines (quoted)
    multi_line = 'GZ-0010,350502198503151027,350502000008,2,90.5,60000,2,2026-01-15,"原址翻建\n二期"'
    content = lines(RENOVATION_HEADER, "", REPAIR, multi_line, "", "", NEW_BUILD)
    path = write(tmp_path, "wfgz.csv", content.encode("gbk"))
    # when read
    rows = read(path, RENOVATION, "gbk")
    # then each row carries the physical line it starts on
    assert [row.line for row in rows] == [3, 4, 8]
    assert rows[1].cells is not None
    assert rows[1].cells["bz"] == "原址翻建\n二期"


def test_blank_lines_and_rows_of_empty_cells_are_skipped(tmp_path: Path) -> None:
    # given blank lines, a line of bare separators and trailing blank lines
    content = lines(PERSONS_HEADER, "", OUYANG, ",,,,,,", "   ", WIFE, "", "")
    path = write(tmp_path, "persons.csv", content.encode())
    # when read
    rows = read(path)
    # then only the two persons come back; a line of only spaces is one odd-sized row, not skipped silently
    persons = [row for row in rows if row.cells is not None]
    assert [row.cells["xm"] for row in persons if row.cells] == ["欧阳明", "林秀英"]
    assert [(row.line, row.error) for row in rows if row.cells is None] == [(5, "row has 1 cells, the header has 7")]


def test_windows_line_endings_are_read(tmp_path: Path) -> None:
    # given a CRLF file, as Windows exports write them
    path = write(tmp_path, "persons.csv", BOM + lines(PERSONS_HEADER, OUYANG, WIFE, newline="\r\n").encode())
    # when read
    rows = read(path)
    # then no cell keeps a carriage return and line numbers still count physical lines
    assert [row.line for row in rows] == [2, 3]
    assert rows[0].cells is not None and rows[1].cells is not None
    assert rows[0].cells["lxdh"] == "13805951234"
    assert rows[1].cells["lxdh"] == ""


def test_rows_read_from_a_file_parse_like_the_spec_example(tmp_path: Path) -> None:
    # given the spec's GBK renovation example written to a file
    path = write(tmp_path, "wfgz.csv", lines(RENOVATION_HEADER, REPAIR, REBUILD).encode("gbk"))
    # when read and parsed
    parsed = [RENOVATION.parse(row.cells) for row in read(path, RENOVATION, "gbk") if row.cells]
    # then both rows become hub records with their own keys
    assert [(row["project_number"], row["kind"], row["remarks"]) for row in parsed] == [
        ("GZ-0009", "REPAIR", "墙体加固"),
        ("GZ-0010", "REBUILD", "原址翻建"),
    ]


def test_unclosed_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    # given a remark that opens a quote and never closes it, followed by another project
    unclosed = 'GZ-0009,35050219900101123X,350502000007,3,68.0,42000,3,2025-10-08,"墙体加固'
    path = write(tmp_path, "wfgz.csv", lines(RENOVATION_HEADER, unclosed, NEW_BUILD).encode("gbk"))
    # when read
    rows = read(path, RENOVATION, "gbk")
    # then the next project is not stored as a remark: it is read, or the broken row is reported
    accepted = [row.cells for row in rows if row.cells is not None]
    assert not any("GZ-0011" in cells["bz"] for cells in accepted)
    assert any(row.error is not None for row in rows) or any(cells["xmbh"] == "GZ-0011" for cells in accepted)
