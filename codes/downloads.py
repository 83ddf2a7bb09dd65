"""Streaming file downloads from Django storage, resumable with an HTTP Range request (RFC 9110 §14).

Django's FileResponse always sends the whole file. Here one `bytes=` range is honoured with a 206 and only
those bytes are read; several ranges (rarely used by download tools) get the whole file, which RFC 9110
allows. `If-Range` with a stale validator also gets the whole file, so a resumed download never mixes two
versions of a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import Storage
from django.http import Http404, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")  # 18 digits: any real file size, no huge ints
BLOCK = 256 * 1024


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range [first, last] a `Range` header asks for; None for the whole file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # another unit, or several ranges: send the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-500": the last 500 bytes
        if int(last) == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise Unsatisfiable
    return start, end


def _read(handle: IO[bytes], remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            block = handle.read(min(BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block
    finally:
        handle.close()


def ranged_file_response(
    request, storage: Storage, name: str, *, size: int, filename: str, content_type: str, etag: str
) -> StreamingHttpResponse | HttpResponse:
    """Stream `name` from `storage` as an attachment, or the byte range the request asks for."""
    wanted: tuple[int, int] | None
    if_range = request.headers.get("If-Range")
    try:
        wanted = None if if_range and if_range != etag else parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError as exc:  # removed from storage behind our back: say so, do not crash
        raise Http404("This file is no longer in storage.") from exc
    first, last = wanted or (0, size - 1)
    if first:
        handle.seek(first)
    response = StreamingHttpResponse(_read(handle, last - first + 1), content_type=content_type)
    response["Content-Length"] = str(last - first + 1)
    if wanted is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
