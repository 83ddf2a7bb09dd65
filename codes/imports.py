"""Code import (bring your own serials): a brand's line or serialization system assigned the serials; Serialize
checks every line and registers the good ones as a batch of one lot, with COPY, like generated codes.

An imported batch is an ordinary batch: its codes take consecutive ordinals [first_ordinal, first_ordinal +
quantity) in the file's order, so positions, printing, assignments, recalls and detection work on them as on
generated ones. Only the serial is stored rather than derived (the FF1 key plays no part): verify finds an
imported serial by the (product, serial) index instead of decrypting it (scans.verify).

The file is read in chunks of IMPORT_CHUNK_LINES lines, never whole. Each chunk commits its codes, its refused
lines and the import's counters (bytes read, lines read, accepted, refused) in one transaction under a lock on
the import row, so a killed worker loses at most one uncommitted chunk and a rerun (or the sweep, once the
worker's lease is out) resumes after the last committed one: the good lines end registered exactly once.
Within a chunk, the lines are checked a piece (PIECE_LINES) at a time and written into ONE COPY kept open for the
whole chunk (`rows.copying`), so the server takes in the codes of one piece while the next one is read and checked.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now

from brands.models import Brand
from brands.spreadsheet import csv_lines
from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from . import gs1, quotas, rows, services
from .models import (
    MAX_BATCH_QUANTITY,
    BatchState,
    CodeBatch,
    ImportFormat,
    ImportState,
    Product,
    RefusedLine,
    SerialAlphabet,
    SerialImport,
)
from .serials import GS1_CSET82

log = logging.getLogger(__name__)

MAX_IMPORT_LINES = MAX_BATCH_QUANTITY
BLOCK_BYTES = 1 << 20
SHOWN_CHARS = 40  # of a refused line, in the report
PIECE_LINES = 20_000  # lines checked at a time into a chunk's open COPY
HEADERS = frozenset({"serial", "serials", "serial number", "serial_number", "sn", "(21)", "21"})


class SerialImportError(ServiceError):
    """An import that cannot be started as asked; `field` names what to fix."""


# --- Starting --------------------------------------------------------------------------------------------


def start_import(
    *,
    brand: Brand,
    product: Product,
    lot_number: str,
    upload,
    fmt: str,
    expires_on: date | None = None,
    manufactured_on: date | None = None,
    requested_by=None,
    enqueue: bool = True,
) -> SerialImport:
    """Store an uploaded file of serials (CSV: one a line, in the first column; JSON: a list of strings) for
    `product`'s lot `lot_number` (made if new, by the rules of ordering), and queue its import. Raises
    ServiceErrors (SerialImportError, services.OrderError) naming `product`, `lot`, `expiry`, `format` or `upload`."""
    if product.brand_id != brand.pk:
        raise SerialImportError("product", "No such product.")
    if fmt not in ImportFormat.values:
        raise SerialImportError("format", f"Choose one of: {', '.join(ImportFormat.values)}.")
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise SerialImportError("upload", "The file is empty.")
    if size > settings.IMPORT_MAX_BYTES:
        raise SerialImportError("upload", f"The file is larger than {settings.IMPORT_MAX_BYTES // 1024**2:,} MB.")
    with transaction.atomic():
        lot = services.get_or_create_lot(
            product=product, number=lot_number, expires_on=expires_on, manufactured_on=manufactured_on
        )
        if services.is_lot_withdrawn(lot):
            raise SerialImportError("lot", f"Lot {lot.number} was recalled or withdrawn: import under a new lot.")
        locked = Brand.objects.select_for_update().get(pk=brand.pk)
        allowed, why = quotas.import_allowance(locked, 1)
        if not allowed:
            raise SerialImportError("upload", why or "Your plan allows no more codes now.")
        serial_import = SerialImport(
            brand=brand, product=product, lot=lot, format=fmt, size=size, requested_by=requested_by
        )
        serial_import.file.save("serials", upload, save=False)
        serial_import.save()
        if enqueue:
            from .tasks import import_serials_task

            enqueue_on_commit(import_serials_task, serial_import.pk)
    return serial_import


def retry_import(serial_import: SerialImport) -> bool:
    """Queue a failed import again: it resumes after its last committed chunk."""
    with transaction.atomic():
        requeued = SerialImport.objects.filter(pk=serial_import.pk, state=ImportState.FAILED).update(
            state=ImportState.QUEUED, error="", finished_at=None, enqueued_at=Now()
        )
        if requeued:
            from .tasks import import_serials_task

            enqueue_on_commit(import_serials_task, serial_import.pk)
    return bool(requeued)


def fail_import(import_id: int, reason: str) -> None:
    """Mark an import (and its batch) failed with what its page shows; a retry resumes it."""
    with transaction.atomic():
        SerialImport.objects.filter(pk=import_id).exclude(state=ImportState.DONE).update(
            state=ImportState.FAILED, error=reason[:500], finished_at=Now()
        )
        batch_id = SerialImport.objects.filter(pk=import_id).values_list("batch_id", flat=True).first()
        if batch_id:
            services.mark_failed(batch_id, reason)


# --- Running ---------------------------------------------------------------------------------------------


def run_import(import_id: int, *, chunk_size: int | None = None) -> SerialImport:
    """Check and register every line of an import, chunk by chunk (see the module's docstring). Safe to run
    twice at once or again after a crash: a second run waits for the first one's chunk, then goes on from
    where it left; a finished import is left as it is."""
    SerialImport.objects.filter(pk=import_id, state__in=[ImportState.QUEUED, ImportState.FAILED]).update(
        state=ImportState.RUNNING, started_at=Coalesce(F("started_at"), Now()), error="", heartbeat_at=Now()
    )
    serial_import = SerialImport.objects.select_related("product").get(pk=import_id)
    if serial_import.state != ImportState.RUNNING:
        return serial_import
    if serial_import.batch_id is not None:  # failed before and resumed: its batch is being registered again
        CodeBatch.objects.filter(pk=serial_import.batch_id, state=BatchState.FAILED).update(
            state=BatchState.GENERATING, error="", finished_at=None, heartbeat_at=Now()
        )
    else:
        serial_import = _open_batch(import_id)
        if serial_import.state != ImportState.RUNNING:
            return serial_import
    chunk_size = chunk_size or settings.IMPORT_CHUNK_LINES
    checker = LineChecker(serial_import.product)
    try:
        with serial_import.file.open("rb") as handle:
            reader = reader_for(serial_import.format, handle)
            while not _import_chunk(import_id, reader, checker, chunk_size):
                pass
    except SerialFileError as exc:  # not a file of its format: what was read stays, the page says where it broke
        fail_import(import_id, exc.message)
        return SerialImport.objects.get(pk=import_id)
    return _finish(import_id)


def _open_batch(import_id: int) -> SerialImport:
    """The import's batch, made once: its ordinals reserved for as many lines as the file has (at most what the
    plan allows now), counted against the plan until the import ends and gives back what it did not use."""
    with transaction.atomic():
        serial_import = SerialImport.objects.select_for_update().select_related("product", "lot").get(pk=import_id)
        if serial_import.batch_id is not None or serial_import.state != ImportState.RUNNING:
            return serial_import
        with serial_import.file.open("rb") as handle:
            lines = count_lines(serial_import.format, handle)
        if lines > MAX_IMPORT_LINES:
            return _refuse_whole(serial_import, f"The file has more than {MAX_IMPORT_LINES:,} lines; split it.")
        brand = Brand.objects.select_for_update().get(pk=serial_import.brand_id)
        allowed, why = quotas.import_allowance(brand, max(lines, 1))
        if not allowed:
            return _refuse_whole(serial_import, why or "Your plan allows no more codes now.")
        product = Product.objects.select_for_update().get(pk=serial_import.product_id)
        batch = CodeBatch.objects.create(
            product=product,
            lot=serial_import.lot,
            quantity=allowed,
            first_ordinal=product.next_ordinal,
            ordered_by=serial_import.requested_by,
            number=services.next_number(CodeBatch, brand.pk),
            imported=True,
            state=BatchState.GENERATING,
            started_at=Now(),
            heartbeat_at=Now(),
        )
        Product.objects.filter(pk=product.pk).update(next_ordinal=F("next_ordinal") + allowed)
        SerialImport.objects.filter(pk=import_id).update(batch=batch, quantity=allowed, heartbeat_at=Now())
    return SerialImport.objects.select_related("product").get(pk=import_id)


def _refuse_whole(serial_import: SerialImport, reason: str) -> SerialImport:
    SerialImport.objects.filter(pk=serial_import.pk).update(state=ImportState.FAILED, error=reason, finished_at=Now())
    serial_import.refresh_from_db()
    return serial_import


def _import_chunk(import_id: int, reader: Reader, checker: LineChecker, chunk_size: int) -> bool:
    """Read, check and register the next chunk of lines; True once the file is read to its end (or another run
    finished or failed the import meanwhile)."""
    with transaction.atomic():
        # The lock makes a second run of the same import wait here, then go on from the counters it reads.
        state, offset, number, accepted, refused, reserved, batch_id = (
            SerialImport.objects.select_for_update()
            .values_list("state", "offset", "codes_done", "lines_accepted", "lines_refused", "quantity", "batch_id")
            .get(pk=import_id)
        )
        if state != ImportState.RUNNING:
            return True
        reader.seek(offset, number)
        batch = CodeBatch.objects.get(pk=batch_id)
        pieces = reader.pieces(chunk_size, checker)
        registered, bad = _register(batch, pieces, room=reserved - accepted, first=batch.first_ordinal + accepted)
        _write_refused(import_id, bad)
        SerialImport.objects.filter(pk=import_id).update(
            offset=reader.offset,
            codes_done=reader.number,
            lines_accepted=accepted + registered,
            lines_refused=refused + len(bad),
            heartbeat_at=Now(),
        )
        CodeBatch.objects.filter(pk=batch_id).update(codes_done=accepted + registered, heartbeat_at=Now())
    return reader.at_end


def _register(batch: CodeBatch, pieces: Iterator[Checked], *, room: int, first: int) -> tuple[int, list[Refusal]]:
    """Register a chunk's checked lines as codes (at most `room`, from ordinal `first`) through ONE COPY kept open
    while the next piece of the chunk is checked, so the server takes in one piece as the next is read. Optimistic:
    the (product, serial) unique index is the check against serials registered before (in earlier chunks or
    batches), so a chunk without them costs one COPY and no read; a chunk that hits one is rolled back to its
    savepoint and registered again without them (`_register_known`). Returns (registered, refused)."""
    good: list[tuple[int, str]] = []
    refused: list[Refusal] = []
    try:
        with transaction.atomic(), rows.copying(batch, first) as codes:
            for piece_good, piece_refused in pieces:
                refused += piece_refused
                if take := piece_good[: max(room - len(good), 0)]:
                    codes.write([serial for _number, serial in take])
                good += piece_good
    except IntegrityError:
        for piece_good, piece_refused in pieces:  # the rest of the chunk, when the clash stopped the COPY early
            refused += piece_refused
            good += piece_good
        registered, more = _register_known(batch, good, room=room, first=first)
        return registered, refused + more
    return min(len(good), max(room, 0)), refused + _over_quota(batch, good[max(room, 0) :])


def _register_known(
    batch: CodeBatch, good: list[tuple[int, str]], *, room: int, first: int
) -> tuple[int, list[Refusal]]:
    """COPY the checked lines' serials as codes, refusing those the product has already: the product's serials
    among them are read in one query and the rest registered. Returns (registered, refused)."""
    refused: list[Refusal] = []
    candidates = good
    for _attempt in range(5):  # each retry drops at least one serial another transaction registered meanwhile
        known = rows.registered(batch.product_id, [serial for _number, serial in candidates])
        refused += [
            Refusal(number, serial, EARLIER if known[serial] == batch.pk else REGISTERED)
            for number, serial in candidates
            if serial in known
        ]
        candidates = [(number, serial) for number, serial in candidates if serial not in known]
        take = candidates[: max(room, 0)]
        try:
            with transaction.atomic():
                if take:
                    rows.insert(batch, first, [serial for _number, serial in take])
        except IntegrityError:
            continue
        return len(take), refused + _over_quota(batch, candidates[len(take) :])
    raise IntegrityError("serials kept clashing with codes registered meanwhile")


def _over_quota(batch: CodeBatch, lines: list[tuple[int, str]]) -> list[Refusal]:
    over = f"Beyond the {batch.quantity:,} codes your plan let this import register."
    return [Refusal(number, serial, over) for number, serial in lines]


def _write_refused(import_id: int, refused: list[Refusal]) -> None:
    if not refused:
        return
    if connection.vendor != "postgresql":
        RefusedLine.objects.bulk_create(
            RefusedLine(serial_import_id=import_id, line=r.line, serial=r.shown, reason=r.reason) for r in refused
        )
        return
    table = RefusedLine._meta.db_table
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} (serial_import_id, line, serial, reason) FROM STDIN") as copy,
    ):
        for r in refused:  # write_row escapes: a refused line may hold anything
            copy.write_row((import_id, r.line, r.shown, r.reason[:200]))


def _finish(import_id: int) -> SerialImport:
    """End a fully read import: its batch takes the quantity it registered (giving the rest of its reservation
    back to the plan) and is ready; an import that registered nothing leaves no batch."""
    with transaction.atomic():
        serial_import = SerialImport.objects.select_for_update().get(pk=import_id)
        if serial_import.state != ImportState.RUNNING:
            return serial_import
        batch = CodeBatch.objects.select_related("product", "lot").filter(pk=serial_import.batch_id).first()
        SerialImport.objects.filter(pk=import_id).update(state=ImportState.DONE, finished_at=Now())
        if batch is not None and serial_import.lines_accepted:
            CodeBatch.objects.filter(pk=batch.pk).update(
                quantity=serial_import.lines_accepted,
                codes_done=serial_import.lines_accepted,
                state=BatchState.READY,
                finished_at=Now(),
            )
            batch.refresh_from_db()
            services.publish_batch_ready(batch)
        elif batch is not None:
            CodeBatch.objects.filter(pk=batch.pk).delete()
    serial_import.refresh_from_db()
    log.info(
        "serials imported",
        extra={"import": import_id, "accepted": serial_import.lines_accepted, "refused": serial_import.lines_refused},
    )
    return serial_import


# --- Checking lines --------------------------------------------------------------------------------------

EARLIER = "Appears earlier in the file."
REGISTERED = "Already registered for this product."


@dataclass(frozen=True)
class Refusal:
    line: int
    serial: str
    reason: str

    @property
    def shown(self) -> str:
        return self.serial[:SHOWN_CHARS]


Checked = tuple[list[tuple[int, str]], list[Refusal]]  # lines checked: good ones (number, serial), refused ones


@dataclass(frozen=True)
class Line:
    """One line (CSV) or item (JSON list) as read: its 1-based number, its serial, or why it has none."""

    number: int
    text: str
    problem: str | None = None


class LineChecker:
    """The checks of one line that need no database: GS1 AI (21), not of the product's generated form, and not a
    repeat within the chunk (`seen`: the chunk's serials so far, by line; repeats across chunks are found by the
    unique index when registering)."""

    def __init__(self, product: Product):
        fmt = product.serial_format
        self.normalise = fmt.normalise
        self.generated_length = fmt.length
        self.generated = re.compile(f"[{re.escape(fmt.alphabet)}]{{{fmt.length}}}")
        # The same two checks over a whole chunk of bytes at once, at C speed: lines of set-82 characters only (no
        # quote or comma, which CSV would read differently; one regular expression), and no line of the generated
        # form: each character the format reads as one of its alphabet's becomes "a", those normalising drops are
        # deleted, any other becomes "x" (one bytes.translate), and a line of exactly `length` "a"s is searched.
        plain = _char_class(c for c in GS1_CSET82 if c not in '",')
        self.plain_lines = re.compile(f"(?:{plain}{{1,20}}\n)*{plain}{{1,20}}".encode())
        shape = bytearray(b"x" * 256)
        shape[ord("\n")] = ord("\n")
        for c in GS1_CSET82:
            if fmt.normalise(c) and fmt.normalise(c) in fmt.alphabet:
                shape[ord(c)] = ord("a")
        self.shape = bytes(shape)
        self.shape_dropped = "".join(c for c in GS1_CSET82 if fmt.normalise(c) == "").encode()
        self.generated_line = b"\n" + b"a" * fmt.length + b"\n"
        kind = "digits" if product.serial_alphabet == SerialAlphabet.NUMERIC else "letters and digits"
        self.generated_reason = (
            f"Has the form of the serials Serialize generates for this product ({fmt.length} {kind}), which a "
            "later batch could repeat: give the product another serial length before importing."
        )

    def check(self, lines: list[Line], seen: dict[str, int]) -> Checked:
        good: list[tuple[int, str]] = []
        bad: list[Refusal] = []
        for line in lines:
            reason = line.problem or self.problem(line.text)
            if reason is None and line.text in seen:
                reason = f"Repeats line {seen[line.text]}."
            if reason is not None:
                bad.append(Refusal(line.number, line.text, reason))
                continue
            seen[line.text] = line.number
            good.append((line.number, line.text))
        return good, bad

    def check_csv(self, first: int, raws: list[bytes], seen: dict[str, int]) -> Checked:
        """`check` for raw CSV lines numbered from `first`: a piece of plain serials, none of the generated form
        and none twice (the usual file), is checked whole; any other line by line."""
        if first == 1 and raws and _is_header(raws[0]):
            first, raws = 2, raws[1:]
        block = b"\n".join(raws)
        if b"\r" in block:  # a file with Windows line breaks: the same lines without their \r
            block = block.replace(b"\r\n", b"\n").removesuffix(b"\r")
        if block and self.plain_lines.fullmatch(block) and not self._has_generated_line(block):
            serials = block.decode("ascii").split("\n")
            numbered = dict(zip(serials, range(first, first + len(serials)), strict=True))
            if len(numbered) == len(serials) and seen.keys().isdisjoint(numbered):
                seen.update(numbered)
                return list(zip(range(first, first + len(serials)), serials, strict=True)), []
        return self.check([csv_line(number, raw) for number, raw in enumerate(raws, first)], seen)

    def _has_generated_line(self, block: bytes) -> bool:
        return self.generated_line in b"\n" + block.translate(self.shape, self.shape_dropped) + b"\n"

    def problem(self, text: str) -> str | None:
        if not text:
            return "Empty line."
        try:
            gs1.validate_serial(text)
        except gs1.GS1Error as exc:
            return exc.message
        if len(text) >= self.generated_length and self.generated.fullmatch(self.normalise(text)):
            return self.generated_reason
        return None


# --- Reading files ---------------------------------------------------------------------------------------


class Reader:
    """Lines of an uploaded file from a byte offset, a chunk at a time, in bounded memory."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle
        self.offset = 0  # bytes of the lines returned so far
        self.number = 0  # lines returned so far (the last one's number)
        self.at_end = False
        # Read from the file but not returned yet: _buffer[_pos:], which starts at `offset`. A position, never a
        # slice per line: slicing a block for each of its lines would copy it thousands of times.
        self._buffer = b""
        self._pos = 0
        self._eof = False

    def seek(self, offset: int, number: int) -> None:
        """Go on from `offset` (bytes) after `number` lines: where the last committed chunk ended."""
        if (offset, number) != (self.offset, self.number):
            self.handle.seek(offset)
            self.offset, self.number, self.at_end = offset, number, False
            self._buffer, self._pos, self._eof = b"", 0, False

    def _fill(self) -> bool:
        """Read another block into the buffer; False at the end of the file."""
        if self._eof:
            return False
        block = self.handle.read(BLOCK_BYTES)
        if not block:
            self._eof = True
            return False
        self._buffer, self._pos = self._buffer[self._pos :] + block, 0
        return True

    def _take(self, end: int) -> bytes:
        """The buffer up to `end`, consumed."""
        taken = self._buffer[self._pos : end]
        self.offset += end - self._pos
        self._pos = end
        return taken

    def read(self, count: int) -> list[Line]:
        raise NotImplementedError

    def checked(self, count: int, checker: LineChecker, seen: dict[str, int]) -> Checked | None:
        """The next `count` lines, checked: (good (number, serial), refused); None once the file is read."""
        lines = self.read(count)
        return checker.check(lines, seen) if lines else None

    def pieces(self, count: int, checker: LineChecker) -> Iterator[Checked]:
        """The next `count` lines (a chunk), checked PIECE_LINES at a time, repeats found across the pieces."""
        seen: dict[str, int] = {}
        end = self.number + count
        while self.number < end and not self.at_end:
            checked = self.checked(min(PIECE_LINES, end - self.number), checker, seen)
            if checked is None:
                return
            yield checked


class CsvReader(Reader):
    """One serial a line, in the first column (quoted as CSV when it holds a comma or a quote); a first line
    that is a column title (`serial`) is skipped."""

    def read(self, count: int) -> list[Line]:
        lines: list[Line] = []
        while len(lines) < count:
            end = self._buffer.find(b"\n", self._pos)
            if end < 0 and self._fill():
                continue
            if end < 0:  # the end of the file: a last line without a line break
                if self._pos < len(self._buffer):
                    self._add(lines, self._take(len(self._buffer)))
                self.at_end = True
                break
            self._add(lines, self._take(end + 1)[:-1])
        return lines

    def checked(self, count: int, checker: LineChecker, seen: dict[str, int]) -> Checked | None:
        """As `Reader.checked`, the lines split in one go rather than one by one (a million lines a few seconds)."""
        while self._buffer.count(b"\n", self._pos) < count and self._fill():
            pass
        parts = self._buffer[self._pos :].split(b"\n", count)
        if len(parts) > count:
            rest = len(parts.pop())
        else:  # the end of the file: what is left are its last lines (a final line break ends, not adds, one)
            rest, self.at_end = 0, True
            if parts and parts[-1] == b"":
                parts.pop()
        self._take(len(self._buffer) - rest)
        first = self.number + 1
        self.number += len(parts)
        if not parts:
            return None
        return checker.check_csv(first, parts, seen)

    def _add(self, lines: list[Line], raw: bytes) -> None:
        self.number += 1
        line = csv_line(self.number, raw)
        if self.number == 1 and _is_header(raw):
            return  # a column title, neither accepted nor refused
        lines.append(line)


def _is_header(raw: bytes) -> bool:
    line = csv_line(1, raw)
    return line.problem is None and line.text.lower() in HEADERS


def _char_class(chars) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


def csv_line(number: int, raw: bytes) -> Line:
    try:
        text = raw.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return Line(number, raw.decode("utf-8", "replace"), "Not UTF-8 text.")
    if '"' in text or "," in text:
        try:
            cells = next(csv.reader([text]), [""])
        except csv.Error:
            return Line(number, text, "Not a CSV line.")
        text = cells[0] if cells else ""
    return Line(number, text.strip())


# One item of a JSON list and what follows it: a string (escapes allowed), or anything else up to the next
# comma or the closing bracket (refused: serials are strings, so leading zeros survive).
_ITEM = re.compile(rb'\s*(?:"((?:[^"\\\n]|\\.)*)"|([^,\]"\s][^,\]]*?))\s*([,\]])', re.S)
_OPEN = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*\[")
_EMPTY_CLOSE = re.compile(rb"\s*\]")


class JsonReader(Reader):
    """A JSON list of serials (`["A1", "A2", …]`), streamed item by item; an item's number is its place in the list."""

    def read(self, count: int) -> list[Line]:
        lines: list[Line] = []
        if self.offset == 0 and not self._open():
            return lines
        while len(lines) < count and not self.at_end:
            match = _ITEM.match(self._buffer, self._pos)
            if match is None or (match.end() == len(self._buffer) and not self._eof):
                if self._fill():
                    continue
                if match is None:
                    raise SerialFileError(f"Not a JSON list of serials after item {self.number:,}.")
            self._take(match.end())
            self.number += 1
            lines.append(json_item(self.number, match.group(1), match.group(2)))
            self.at_end = match.group(3) == b"]"
        return lines

    def _open(self) -> bool:
        """Past the opening bracket (and an empty list's closing one); False when the list is empty."""
        while (match := _OPEN.match(self._buffer, self._pos)) is None:
            if not self._fill():
                raise SerialFileError("Not a JSON list: it must start with [.")
        self._take(match.end())
        self._fill()
        if empty := _EMPTY_CLOSE.match(self._buffer, self._pos):
            self._take(empty.end())
            self.at_end = True
            return False
        return True


def json_item(number: int, string: bytes | None, other: bytes | None) -> Line:
    if string is None:
        shown = (other or b"").decode("utf-8", "replace")
        return Line(number, shown, "Not a string: write serials in quotes.")
    try:
        text = string.decode("utf-8") if b"\\" not in string else json.loads(b'"' + string + b'"')
    except (UnicodeDecodeError, ValueError):
        return Line(number, string.decode("utf-8", "replace"), "Not valid JSON text.")
    return Line(number, text.strip())


class SerialFileError(ServiceError):
    """A file that is not of its format at all (the lines read before are kept)."""

    def __init__(self, message: str):
        super().__init__("upload", message)


def reader_for(fmt: str, handle: IO[bytes]) -> Reader:
    return JsonReader(handle) if fmt == ImportFormat.JSON else CsvReader(handle)


def count_lines(fmt: str, handle: IO[bytes]) -> int:
    """At most how many serials the file holds (line breaks; a JSON list's commas), read in blocks."""
    separator, total, last = (b"," if fmt == ImportFormat.JSON else b"\n"), 0, b""
    while block := handle.read(BLOCK_BYTES):
        total += block.count(separator)
        last = block
    return total + (1 if last and not last.endswith(b"\n") or fmt == ImportFormat.JSON else 0)


def refused_report(serial_import: SerialImport) -> Iterator[str]:
    """The report people open: a header, then every refused line (line, serial, reason) as CSV lines."""
    return csv_lines(("line", "serial", "reason"), refused_lines(serial_import))


def refused_lines(serial_import: SerialImport) -> Iterator[tuple[int, str, str]]:
    """The import's report, line by line in file order (line, serial as read, reason), read in chunks."""
    last = 0
    while True:
        chunk = list(
            RefusedLine.objects.filter(serial_import=serial_import, line__gt=last)
            .order_by("line")
            .values_list("line", "serial", "reason")[:10_000]
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1][0]
