"""The demo's output files: one streaming CSV writer per department file, the bad-row log, the manifest."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from tools.demo.dates import EXPORTED_AT

# Column order as in spec/departments.md, which is the source of truth for names.
HEADERS: dict[str, tuple[str, ...]] = {
    "registry/households.csv": ("hh", "xzqh", "dz", "hjxz"),
    "registry/persons.csv": ("sfzh", "xm", "xb", "csrq", "hh", "yhzgx", "lxdh"),
    "civil_affairs/dibao.csv": ("hh", "bzlx", "sfzh", "bzrs", "yje", "qsrq", "zzrq", "jtqjz"),
    "civil_affairs/tekun.csv": ("sfzh", "zlnl", "gyfs", "yje", "qsrq", "zzrq"),
    "civil_affairs/lsjz.csv": ("jzbh", "sfzh", "hh", "jzlx", "jzyy", "je", "sqrq", "ffrq"),
    "civil_affairs/ertong.csv": ("sfzh", "lb", "yje", "qsrq", "zzrq"),
    "civil_affairs/hdxx.csv": ("hh", "hdrq", "rs", "nsr", "ylzc", "jyzc", "jycb", "jcylj"),
    "civil_affairs/bzbz.csv": ("xzqh", "nd", "cxlb", "bz"),
    "education/xsxj.csv": ("sfzh", "xxdm", "xxmc", "xd", "nj", "xq", "zt"),
    "education/xszz.csv": ("sfzh", "xq", "zzxm", "je", "ffrq"),
    "medical/cbxx.csv": ("sfzh", "nd", "xzlx", "grjf", "zzje", "zzlb"),
    "medical/jsxx.csv": ("jsid", "sfzh", "lx", "ryrq", "cyrq", "zfy", "jbyl", "dbbx", "yljz", "grzf", "zddm"),
    "housing/wfjd.csv": ("jdbh", "sfzh", "hh", "jdrq", "dj", "jddw"),
    "housing/wfgz.csv": ("xmbh", "sfzh", "hh", "gzlx", "mj", "bzje", "zt", "lxrq", "bz"),
    "housing/zfbz.csv": ("sfzh", "hh", "lx", "yje", "qsrq", "zzrq"),
    "disability/cjr.csv": ("sfzh", "cjzh", "cjlb", "cjdj", "fzrq", "yxq"),
    "disability/lxbt.csv": ("sfzh", "btlx", "yje", "qsrq", "zzrq"),
    "poverty/pkh.csv": ("hh", "hzsfzh", "rks", "sbnd", "tpnd", "xzqh"),
    "poverty/jcdx.csv": ("hh", "jclx", "fxyy", "rks", "nrrq", "fxxc", "xcrq", "rjsr"),
}
# Housing exports GBK; two UTF-8 files carry a BOM so readers must cope with one.
ENCODINGS = {
    "housing/wfjd.csv": "gbk",
    "housing/wfgz.csv": "gbk",
    "housing/zfbz.csv": "gbk",
    "registry/persons.csv": "utf-8-sig",
    "education/xsxj.csv": "utf-8-sig",
}
INVALID_GBK = b"\xff\xfe"  # 0xFF is neither a GBK lead byte nor a trail byte
MARK = "<0xFFFE>"  # stands in for INVALID_GBK until the row is encoded; no real value contains it


def column(file_key: str, name: str) -> int:
    return HEADERS[file_key].index(name)


class Sink:
    """Opens every department file, writes rows as they are made, and counts them.

    Line numbers come from the counters (header = line 1), so the bad-row log needs no re-reading.
    The log goes to an anonymous temporary file: it grows with the data and must not stay in memory.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.counts = dict.fromkeys(HEADERS, 0)
        self.bad_rows = 0
        self._serials: dict[str, int] = {}
        self._files: dict[str, io.TextIOWrapper] = {}
        self._writers: dict[str, Any] = {}
        for key, header in HEADERS.items():
            path = out_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "w", encoding=ENCODINGS.get(key, "utf-8"), newline="")
            self._files[key] = handle
            self._writers[key] = csv.writer(handle, lineterminator="\n")
            self._writers[key].writerow(header)
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._planted = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._held: list[tuple[str, tuple[Any, ...] | list[Any]]] | None = None

    def serial(self, name: str) -> int:
        """The next number of a record series (case numbers, settlement ids), 1, 2, 3, ..."""
        number = self._serials.get(name, 0) + 1
        self._serials[name] = number
        return number

    def write(self, key: str, row: tuple[Any, ...] | list[Any]) -> None:
        if self._held is not None:
            self._held.append((key, row))
            return
        self._writers[key].writerow(row)
        self.counts[key] += 1

    def hold(self) -> None:
        """Keep the rows written from now on back until `release` (a household about to get a planted case)."""
        self._held = []

    def release(self, dropped: Collection[str]) -> None:
        """Write the rows held back, except those of the files in `dropped`."""
        held, self._held = self._held or [], None
        for key, row in held:
            if key not in dropped:
                self.write(key, row)

    def note_planted(self, entry: dict[str, Any]) -> None:
        """Log one planted case for the manifest's `planted` list (kept on disk, like the bad rows)."""
        self._planted.write(json.dumps(entry, separators=(",", ":")) + "\n")

    def write_bad(self, key: str, row: list[Any], kind: str, name: str, detail: str) -> None:
        """Write one deliberately bad row and log where it is and what is wrong with it."""
        if MARK in "".join(map(str, row)):
            # The invalid bytes cannot pass through the text layer: encode the line ourselves.
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(row)
            handle = self._files[key]
            raw = text.getvalue().encode(handle.encoding).replace(MARK.encode(), INVALID_GBK)
            handle.flush()
            handle.buffer.write(raw)
            self.counts[key] += 1
        else:
            self.write(key, row)
        department, file_name = key.split("/")
        entry = {
            "department": department,
            "file": file_name,
            "line": self.counts[key] + 1,
            "kind": kind,
            "column": name,
            "detail": detail,
        }
        self._log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.bad_rows += 1

    def close(self, header: dict[str, Any]) -> None:
        """Close the data files and stream manifest.json: its fields, the row counts, the bad rows."""
        for handle in self._files.values():
            handle.close()
        exported = EXPORTED_AT.timestamp()
        for key in self._files:
            os.utime(self.out_dir / key, (exported, exported))
        with open(self.out_dir / "manifest.json", "w", encoding="utf-8", newline="\n") as manifest:
            manifest.write("{\n")
            for key, value in header.items():
                manifest.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
            manifest.write('  "files": {\n')
            manifest.write(",\n".join(f"    {json.dumps(k)}: {v}" for k, v in self.counts.items()))
            manifest.write('\n  },\n  "bad_rows": [')
            self._log.seek(0)
            separator = "\n    "
            for line in self._log:
                manifest.write(separator + line.rstrip("\n"))
                separator = ",\n    "
            manifest.write('\n  ],\n  "planted": [')
            self._planted.seek(0)
            separator = "\n    "
            for line in self._planted:
                manifest.write(separator + line.rstrip("\n"))
                separator = ",\n    "
            manifest.write("\n  ]\n}\n")
        self._log.close()
        self._planted.close()

    def abort(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._log.close()
        self._planted.close()
