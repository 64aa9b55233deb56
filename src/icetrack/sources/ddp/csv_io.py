"""Reading DDP CSV files (plain or gzipped): the header line, a streaming all-text reader, one-line errors.

Every column is read as text (pyarrow's streaming reader); nothing is inferred, so identifiers keep every digit.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path

import pyarrow as pa

from icetrack.domain.edition import SourceError
from icetrack.sources.canonical.release import is_gzip
from icetrack.sources.ddp.files import one_line, unique_names
from icetrack.sources.files import MAX_DECOMPRESSED_BYTES, bounded_lines

# What a CSV stream raises when the file is not what it claims (caught and turned into one SourceError line).
CSV_ERRORS = (pa.ArrowInvalid, pa.ArrowIOError, OSError, EOFError, zlib.error, UnicodeDecodeError)


def csv_header(path: Path) -> list[str]:
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            first = next(bounded_lines(fh, path), (1, b""))[1]  # one line, at most MAX_LINE_BYTES
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(path, f"cannot read the file, truncated or corrupt: {one_line(exc)}") from None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8: invalid byte 0x{first[exc.start]:02x} at byte offset {exc.start} "
                                "(line 1)") from None
    return next(csv.reader([text]), [])


def csv_stream(path: Path, header: list[str], block_size: int = 32 << 20, limit: int = MAX_DECOMPRESSED_BYTES):
    """Record batches of the whole file as text. A row must fit in ``block_size`` (pyarrow refuses a longer
    one), and reading stops once the batches hold ``limit`` bytes (a gzip bomb). pyarrow reads the file itself
    (its reader threads must not call back into Python: a Python file object crashes the interpreter at exit)."""
    import pyarrow.csv as pacsv

    read_names = unique_names(header)  # unique names for the reader; printed names kept apart
    ropts = pacsv.ReadOptions(column_names=read_names, skip_rows=1, block_size=block_size, encoding="utf8")
    copts = pacsv.ConvertOptions(column_types={n: pa.string() for n in read_names}, null_values=[],
                                 strings_can_be_null=False, quoted_strings_can_be_null=False)
    popts = pacsv.ParseOptions(newlines_in_values=True)
    return _bounded(pacsv.open_csv(path, read_options=ropts, convert_options=copts, parse_options=popts), path,
                    limit)


def _bounded(reader, path: Path, limit: int):
    """The reader's batches, refused once they hold more than ``limit`` bytes of data."""
    held = 0
    for batch in reader:
        held += batch.nbytes
        if held > limit:
            raise SourceError(path, f"more than {limit:,} bytes of data; refused as a possible decompression bomb")
        yield batch


def csv_error(path: Path, exc: BaseException, done: int, where: str | None) -> SourceError:
    """One-line error for a CSV stream that failed after ``done`` rows (bad UTF-8 located by line and byte)."""
    msg = one_line(exc)
    if "utf8" in msg.lower() or "utf-8" in msg.lower() or isinstance(exc, UnicodeDecodeError):
        try:
            bad = find_bad_utf8(path)
        except (OSError, EOFError, zlib.error):
            bad = None
        if bad:
            return SourceError(path, f"not UTF-8: invalid byte sequence at byte offset {bad[0]:,} (line {bad[1]:,})",
                               where=where, row=bad[1])
    if isinstance(exc, (EOFError, zlib.error)) or "gzip" in msg.lower() or "compress" in msg.lower():
        return SourceError(path, f"compressed stream truncated or corrupt after {done:,} rows: {msg}", where=where)
    return SourceError(path, f"CSV unreadable after {done:,} rows: {msg}", where=where, row=done + 2)


def find_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(byte offset in the decoded stream, 1-based line) of the first invalid UTF-8 sequence, or None."""
    opener = gzip.open if is_gzip(path) else open
    offset = 0
    with opener(path, "rb") as fh:
        for line, raw in bounded_lines(fh, path):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return offset + exc.start, line
            offset += len(raw)
    return None
