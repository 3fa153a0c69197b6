"""Look inside an s3hc cache directory from a test (layout: dataplane/cache/cache_layout.h).

    <dir>/objects/<h0h1>/<h2h3>/<hash>/record                 CacheRecord (protobuf)
    <dir>/objects/<h0h1>/<h2h3>/<hash>/r<first>.<rand>.rng    range files (blocks of a
                                                             24-byte header + payload)

Usage:
    cache = CacheDir(path)
    cache.files()                      # every file under the directory, paths relative to it
    cache.objects()                    # [CachedObject] decoded from every live record
    cache.objects(tombstones=True)     # ... and the tombstones invalidations leave
    obj = cache.find(bucket, key)      # live CachedObject or None
    obj.etag, obj.size, obj.ranges     # ranges: [(first, last, file name)], sorted
    obj.held()                         # [(first, last)] with touching ranges merged
    obj.range_paths()                  # absolute paths of its range files
    corrupt_middle(path)               # flips bytes in the middle of a file (a block payload)
    HASH_NAME_RE                       # what every relative file path must look like

Records are decoded with a small protobuf wire-format reader (no generated code needed):
only the fields tests look at are kept.
"""

import dataclasses
import os
import re

# objects/ab/cd/<32 hex>/record or .../r<first>.<rand>.rng (".tmp.<n>" suffix while written)
HASH_NAME_RE = re.compile(
    r"^objects/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{28})/(record|r\d+\.\d+\.rng)$")
# The fleet engine's own files: journals, the maintenance lease, published usage, snapshot.
FLEET_FILE_RE = re.compile(r"^fleet/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")
# The files at the top: the tables of record changes and of evicted news
# (dataplane/cache/record_changes.h, evicted_news.h).
ROOT_FILE_RE = re.compile(r"^(record-changes|evicted-news)$")


def layout_pattern(rel):
    """The pattern a file of the cache directory (path relative to it) must match."""
    if rel.startswith("fleet/"):
        return FLEET_FILE_RE
    return HASH_NAME_RE if "/" in rel else ROOT_FILE_RE


@dataclasses.dataclass
class CachedObject:
    bucket: str
    key: str
    etag: str
    size: int
    ranges: list        # [(first, last, file)] sorted by first byte
    parts: list         # [(number, first, last)]
    parts_count: int
    from_write: bool
    directory: str      # absolute path of the object's directory

    @property
    def tombstone(self):
        """An invalidated object's record: no version (ETag), only the time it was dropped."""
        return not self.etag

    def range_paths(self):
        return [os.path.join(self.directory, name) for _, _, name in self.ranges]

    def held(self):
        """Bytes held as [(first, last)], touching or overlapping ranges merged."""
        merged = []
        for first, last, _ in self.ranges:
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return merged


class CacheDir:
    def __init__(self, path):
        self.path = path

    def files(self):
        """Every regular file under the directory, as sorted paths relative to it."""
        found = []
        for root, _, names in os.walk(self.path):
            for name in names:
                found.append(os.path.relpath(os.path.join(root, name), self.path))
        return sorted(found)

    def objects(self, tombstones=False):
        """Every object with a record, decoded; tombstones only when asked for."""
        result = []
        for rel in self.files():
            if rel.endswith("/record"):
                full = os.path.join(self.path, rel)
                with open(full, "rb") as f:
                    obj = _decode_record(f.read(), os.path.dirname(full))
                if tombstones or not obj.tombstone:
                    result.append(obj)
        return result

    def find(self, bucket, key):
        for obj in self.objects():
            if obj.bucket == bucket and obj.key == key:
                return obj
        return None


def corrupt_middle(path, count=16):
    """Inverts `count` bytes in the middle of the file (inside a block's payload for a
    one-block range file), leaving its size and footer intact."""
    size = os.path.getsize(path)
    at = max(0, size // 2 - count // 2)
    with open(path, "r+b") as f:
        f.seek(at)
        data = f.read(count)
        f.seek(at)
        f.write(bytes(b ^ 0xFF for b in data))


# ---- protobuf wire format -------------------------------------------------

def _varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data):
    """Yields (field number, value) pairs: ints for varints/fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = int.from_bytes(data[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(data[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


def _decode_record(data, directory):
    obj = CachedObject("", "", "", 0, [], [], 0, False, directory)
    for number, value in _fields(data):
        if number == 2:
            obj.bucket = value.decode("utf-8")
        elif number == 3:
            obj.key = value.decode("utf-8")
        elif number == 5:
            obj.etag = value.decode("utf-8")
        elif number == 6:
            obj.size = value
        elif number == 11:
            obj.from_write = bool(value)
        elif number == 12:
            sub = dict(_fields(value))
            obj.ranges.append((sub.get(1, 0), sub.get(2, 0), sub.get(3, b"").decode()))
        elif number == 13:
            sub = dict(_fields(value))
            obj.parts.append((sub.get(1, 0), sub.get(2, 0), sub.get(3, 0)))
        elif number == 14:
            obj.parts_count = value
    obj.ranges.sort()
    return obj
