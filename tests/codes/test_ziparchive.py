"""The streaming ZIP writer: archives every reader accepts, ZIP64 past 65,535 entries, flat memory."""

import io
import shutil
import subprocess
import tempfile
import tracemalloc
import zipfile

import pytest

from codes.ziparchive import ZipWriter


def archive(entries, **kwargs) -> bytes:
    out = io.BytesIO()
    with ZipWriter(out, date_time=(2026, 3, 4, 5, 6, 8), **kwargs) as writer:
        for name, data, compress in entries:
            writer.add(name, data, compress=compress)
    return out.getvalue()


def test_stored_and_deflated_entries_read_back_with_their_names_and_time():
    data = archive([("a.png", b"\x89PNG" * 100, False), ("b.svg", b"<svg/>" * 500, True), ("é.txt", b"", False)])
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        assert zipped.testzip() is None
        assert [i.filename for i in zipped.infolist()] == ["a.png", "b.svg", "é.txt"]
        assert zipped.read("b.svg") == b"<svg/>" * 500 and zipped.read("a.png") == b"\x89PNG" * 100
        assert zipped.getinfo("b.svg").compress_type == zipfile.ZIP_DEFLATED
        assert zipped.getinfo("b.svg").compress_size < 3000
        assert zipped.getinfo("a.png").date_time == (2026, 3, 4, 5, 6, 8)


def test_the_same_entries_give_the_same_bytes():
    entries = [(f"{n}.png", bytes([n]) * n, n % 2 == 0) for n in range(50)]
    assert archive(entries) == archive(entries)


def test_more_than_65535_entries_use_zip64_and_unzip_accepts_them(tmp_path):
    count = 70_000
    path = tmp_path / "many.zip"
    with path.open("wb") as out, ZipWriter(out) as writer:
        for n in range(count):
            writer.add(f"{n:05d}.png", n.to_bytes(3, "big"))
    with zipfile.ZipFile(path) as zipped:
        names = zipped.namelist()
        assert len(names) == count and names[-1] == "69999.png"
        assert zipped.read("69999.png") == (69_999).to_bytes(3, "big")
    if shutil.which("unzip"):
        result = subprocess.run(["unzip", "-tqq", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def peak_memory(entries: int) -> int:
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            with ZipWriter(out) as writer:
                for n in range(entries):
                    writer.add(f"{n:06d}.png", b"x" * 300)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_entries():
    small, large = peak_memory(10_000), peak_memory(60_000)
    # zipfile would hold 50,000 more ZipInfo objects here (about 20 MB); the writer holds none.
    assert large - small < 64 * 1024, (small, large)


def test_writing_after_close_is_refused():
    writer = ZipWriter(io.BytesIO())
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.add("a", b"")
