"""A ZIP writer whose memory does not grow with the number of entries (PKWARE APPNOTE 6.3.x).

A ZIP ends with a central directory: one record per entry, written after all the data. `zipfile` and
zipstream-ng keep a ZipInfo object per entry until then (about 400 bytes each: 39 MB per 100,000 codes of a
print part). Here each entry's central-directory record is written to a temporary file as soon as the entry
is, and copied to the output at the end; the writer itself holds a few counters. Entries are whole `bytes`
(one symbol each), so the CRC and sizes go into the local header and no data descriptor is needed.
ZIP64 records are written when there are 65,535 entries or more, or offsets past 4 GiB.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from types import TracebackType
from typing import BinaryIO

STORED, DEFLATED = 0, 8
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")
_UTF8_NAMES = 0x0800  # general purpose flag bit 11: names are UTF-8
_VERSION = 20  # 2.0: deflate
_VERSION64 = 45  # 4.5: ZIP64
_MADE_BY_UNIX = 3 << 8
_FILE_MODE = 0o100644 << 16
_MAX16, _MAX32 = 0xFFFF, 0xFFFFFFFF
_COPY_BLOCK = 256 * 1024


def dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    """(time, date) in MS-DOS form, the only timestamp every unzip reads; years before 1980 become 1980."""
    year, month, day, hour, minute, second = date_time
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


class ZipWriter:
    """Write entries to a binary stream (a file, a pipe: no seeking); `close()` writes the directory."""

    def __init__(
        self,
        out: BinaryIO,
        *,
        date_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0),
        level: int = 6,
    ) -> None:
        self._out = out
        self._time, self._date = dos_time(date_time)
        self._level = level
        self._directory = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._offset = 0
        self._count = 0
        self._closed = False

    def add(self, name: str, data: bytes, *, compress: bool = False) -> None:
        """Add one entry; `compress` deflates it (worth it for text such as SVG, not for PNG)."""
        if self._closed:
            raise ValueError("the archive is closed")
        encoded = name.encode()
        crc = zlib.crc32(data)
        method = STORED
        body = data
        if compress:
            packer = zlib.compressobj(self._level, zlib.DEFLATED, -15)  # raw deflate, as ZIP stores it
            body = packer.compress(data) + packer.flush()
            method = DEFLATED
        if len(data) > _MAX32 or len(body) > _MAX32:
            raise ValueError(f"{name}: entries of 4 GiB or more are not supported")
        header = _LOCAL.pack(
            b"PK\x03\x04", _VERSION, _UTF8_NAMES, method, self._time, self._date, crc, len(body), len(data),
            len(encoded), 0,
        )  # fmt: skip
        self._write_central_record(encoded, method, crc, len(body), len(data), self._offset)
        self._out.write(header)
        self._out.write(encoded)
        self._out.write(body)
        self._offset += len(header) + len(encoded) + len(body)
        self._count += 1

    def _write_central_record(self, name: bytes, method: int, crc: int, packed: int, size: int, offset: int) -> None:
        extra = b""
        version = _VERSION
        if offset >= _MAX32:  # the entry starts past 4 GiB: the offset goes into a ZIP64 extra field
            extra = struct.pack("<HHQ", 0x0001, 8, offset)
            offset, version = _MAX32, _VERSION64
        record = _CENTRAL.pack(
            b"PK\x01\x02", _MADE_BY_UNIX | version, version, _UTF8_NAMES, method, self._time, self._date, crc,
            packed, size, len(name), len(extra), 0, 0, 0, _FILE_MODE, offset,
        )  # fmt: skip
        self._directory.write(record + name + extra)

    def close(self) -> None:
        """Copy the central directory to the output and end the archive (ZIP64 records when needed)."""
        if self._closed:
            return
        self._closed = True
        start = self._offset
        size = self._directory.tell()
        self._directory.seek(0)
        while block := self._directory.read(_COPY_BLOCK):
            self._out.write(block)
        self._directory.close()
        end = start + size
        if self._count >= _MAX16 or start >= _MAX32 or size >= _MAX32:
            self._out.write(
                _END64.pack(b"PK\x06\x06", 44, _VERSION64, _VERSION64, 0, 0, self._count, self._count, size, start)
            )
            self._out.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end, 1))
        count16 = min(self._count, _MAX16)
        self._out.write(_END.pack(b"PK\x05\x06", 0, 0, count16, count16, min(size, _MAX32), min(start, _MAX32), 0))

    @property
    def count(self) -> int:
        return self._count

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._closed = True
            self._directory.close()
