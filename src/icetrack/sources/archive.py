"""Every past edition of ICE's detention-statistics workbooks that the Internet Archive's Wayback Machine holds.

ICE replaces the workbooks on https://www.ice.gov/detain/detention-management as the fiscal year goes on, and
reuses undated names such as ``FY23_detentionStats.xlsx``, so earlier editions survive only in web archives.
The Wayback Machine's CDX API (https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server)
lists the captures under https://www.ice.gov/doclib/detention/; each capture's raw bytes come from the ``id_``
form ``https://web.archive.org/web/{timestamp}id_/{original}``.

Identical bytes are one edition: the folder keeps one file per sha256, named after ICE's file name. Two
different contents under one name (ICE's undated names) are told apart by the first capture's
``YYYYMMDDhhmmss-`` prefix, which the workbook reader strips to recover ICE's URL. The earliest capture of a
sha256 bounds its publication from above: ICE published it no later than that. Two tab-separated files in
the folder keep the record (tab-separated, because ``icetrack ingest FOLDER`` takes every ``.csv`` for a
figures file):

- ``archive-captures.tsv``: one line per capture used (timestamp, original URL, CDX digest, and the sha256 of
  its bytes or why it was skipped), so a rerun downloads only captures it has not seen;
- ``archive-manifest.tsv``: one line per file, read back by :func:`read_archive_manifest`.
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import httpx

from icetrack.domain.edition import SourceError, file_digest
from icetrack.sources.fetch import MAX_DOWNLOAD_BYTES, USER_AGENT, FetchError, http_failure

WAYBACK = "https://web.archive.org"
CDX_PATH = "/cdx/search/cdx"
# The CDX server canonicalises URLs (scheme, leading www., :80), so one prefix covers every spelling of
# https://www.ice.gov/doclib/detention/ that was captured.
ARCHIVE_PREFIXES = ("ice.gov/doclib/detention/",)
MANIFEST = "archive-manifest.tsv"
CAPTURE_LOG = "archive-captures.tsv"
CDX_FIELDS = "timestamp,original,statuscode,digest,mimetype,length"
CDX_PAGE_ROWS = 5_000  # rows per CDX request; the resume key asks for the rest
MAX_CDX_PAGES = 200  # a runaway resume loop stops here (a million rows; ICE's folder holds a few thousand)
MAX_WAIT = 120.0  # seconds; a longer Retry-After is cut to this rather than stalling the run for hours
TRIES_PER_CONTENT = 3  # captures of one payload tried in one run before leaving it for the next run

_WORKBOOK_NAME = re.compile(r"^FY\d{2}(?:\d{2})?[-_]?detention[-_]?stats[A-Za-z0-9_.-]*\.xlsx$", re.I | re.A)
_TIMESTAMP = re.compile(r"^\d{14}$")
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_MANIFEST_FIELDS = ("file_name", "sha256", "size_bytes", "original_url", "first_capture", "last_capture",
                    "first_capture_url", "captures")
_LOG_FIELDS = ("timestamp", "original_url", "digest", "sha256", "skipped")
_T = TypeVar("_T")


def workbook_name(url: str) -> str | None:
    """ICE's file name in ``url`` when it names a detention-statistics workbook (FY25_detentionStats06052025.xlsx,
    FY21-detentionstats.xlsx), else None. The pattern admits only characters safe in a file name."""
    name = unquote(PurePosixPath(urlparse(url).path).name)
    return name if _WORKBOOK_NAME.match(name) else None


@dataclass(frozen=True)
class Capture:
    """One capture the CDX API lists: when (UTC), of which URL, and the digest (SHA-1) of its payload."""

    timestamp: str  # YYYYMMDDhhmmss
    original: str
    digest: str
    length: int | None = None  # bytes of the archived record (compressed), close to the file's size

    @property
    def file_name(self) -> str:
        return workbook_name(self.original) or ""

    @property
    def captured_at(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    def raw_url(self, archive_url: str) -> str:
        """The capture's bytes as archived (``id_``: no rewriting, no archive banner)."""
        return f"{archive_url.rstrip('/')}/web/{self.timestamp}id_/{self.original}"

    def view_url(self, archive_url: str) -> str:
        return f"{archive_url.rstrip('/')}/web/{self.timestamp}/{self.original}"


@dataclass(frozen=True)
class ArchiveCapture:
    """One file of an archive download (one line of ``archive-manifest.tsv``): its bytes and when web archives
    first and last saw them."""

    file_name: str  # in the folder the manifest sits in
    sha256: str
    size_bytes: int
    original_url: str  # ICE's URL at the first capture
    first_capture: datetime  # UTC
    last_capture: datetime  # UTC; the last capture listed (the CDX query collapses runs of identical captures)
    archive_url: str  # the first capture in the Wayback Machine
    captures: int  # captures listed with these bytes

    @property
    def published_no_later_than(self) -> date:
        """An upper bound on the publication date: the capture's UTC date is never before ICE's (U.S.) date."""
        return self.first_capture.date()


@dataclass(frozen=True)
class Politeness:
    """How hard to lean on the archive. Retries follow a 429, a 5xx or a dropped connection."""

    delay: float = 1.0  # seconds between two requests
    retries: int = 2  # further attempts before giving up
    backoff: float = 5.0  # wait before the first retry, doubled for each next one (a Retry-After header wins)
    timeout: float = 60.0
    max_bytes: int = MAX_DOWNLOAD_BYTES


@dataclass(frozen=True)
class ArchivePlan:
    """What the archive lists against what the folder holds."""

    pending: list[list[Capture]]  # captures to download, one list per payload digest, oldest first
    listed: int  # workbook captures the archive lists
    already_had: int  # distinct files among the listed captures that the folder already holds


@dataclass
class ArchiveResult:
    new_files: list[Path] = field(default_factory=list)  # in the order of their first capture
    skipped: list[str] = field(default_factory=list)  # one line per capture that could not be used
    listed: int = 0
    already_had: int = 0  # distinct files among the listed captures that the folder held before
    manifest: Path | None = None


Progress = Callable[[int, int, str], None]  # (done, total, what is being downloaded now)


# --- talking to the archive ---------------------------------------------------------------------------------


class _Busy(Exception):
    """A 429 or a 5xx: worth another attempt, after ``wait`` seconds when the server says."""

    def __init__(self, why: str, wait: float | None):
        super().__init__(why)
        self.wait = wait


def _check_busy(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise _Busy(f"HTTP {response.status_code}", _retry_after(response.headers.get("Retry-After", "")))


def _retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date), None when absent or garbled."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


class _Session:
    """One HTTP client that pauses between requests and retries what a busy archive answers."""

    def __init__(self, polite: Politeness):
        self.polite = polite
        self.client = httpx.Client(timeout=polite.timeout, follow_redirects=True,
                                   headers={"User-Agent": USER_AGENT})
        self._last_end = float("-inf")

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def call(self, url: str, attempt: Callable[[], _T]) -> _T:
        host = urlparse(url).netloc or url
        tries = self.polite.retries + 1
        for n in range(tries):
            time.sleep(max(0.0, self._last_end + self.polite.delay - time.monotonic()))
            try:
                return attempt()
            except _Busy as e:
                failure, wait = FetchError(f"{url}: {e}"), e.wait
            except httpx.TransportError as e:  # refused, timed out, cut short mid-body
                failure, wait = http_failure(e, host, self.polite.timeout), None
            except httpx.HTTPError as e:
                raise http_failure(e, host, self.polite.timeout) from None
            finally:
                self._last_end = time.monotonic()
            if n + 1 < tries:
                time.sleep(min(MAX_WAIT, wait if wait is not None else self.polite.backoff * 2 ** n))
        raise FetchError(f"{failure} ({tries} attempts)")

    def get_json(self, url: str, params: dict[str, str]) -> Any:
        def attempt() -> Any:
            response = self.client.get(url, params=params)
            _check_busy(response)
            response.raise_for_status()
            try:
                return response.json()
            except ValueError:
                raise FetchError(f"{url}: the answer is not JSON") from None

        return self.call(url, attempt)

    def download(self, url: str, part: Path) -> tuple[str, int] | str:
        """Stream ``url`` into ``part``: the sha256 and size of the bytes, or why the capture is unusable."""
        cap = self.polite.max_bytes

        def attempt() -> tuple[str, int] | str:
            with self.client.stream("GET", url) as response:
                _check_busy(response)
                if response.status_code != 200:
                    return f"the archive answered HTTP {response.status_code}"
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > cap:
                    return f"larger than {cap:,} bytes"
                digest, size = hashlib.sha256(), 0
                with open(part, "wb") as fh:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > cap:
                            return f"larger than {cap:,} bytes"
                        digest.update(chunk)
                        fh.write(chunk)
            # An .xlsx is a ZIP: this catches an archive error page served with status 200, and a body cut
            # short without the server saying how long it was (the ZIP directory sits at the end).
            if not zipfile.is_zipfile(part):
                return "not an .xlsx workbook (no ZIP structure): the archive served something else"
            return digest.hexdigest(), size

        return self.call(url, attempt)


# --- listing ------------------------------------------------------------------------------------------------


def _cdx_page(data: Any, where: str, since: str) -> tuple[list[Capture], str | None]:
    """The workbook captures on one page of CDX JSON (a header row, rows, then optionally [] and [resume key])."""
    if data == []:
        return [], None
    if not (isinstance(data, list) and all(isinstance(r, list) and all(isinstance(c, str) for c in r)
                                           for r in data)):
        raise FetchError(f"{where}: not a CDX JSON answer (rows of strings expected)")
    header, rows, resume = data[0], data[1:], None
    if [] in rows:
        tail = rows[rows.index([]) + 1:]
        resume = tail[0][0] if tail and tail[0] else None
        rows = rows[:rows.index([])]
    missing = {"timestamp", "original", "digest"} - set(header)
    if missing:
        raise FetchError(f"{where}: the CDX answer has no {', '.join(sorted(missing))} field")
    captures = []
    for row in rows:
        if len(row) != len(header):
            raise FetchError(f"{where}: a CDX row has {len(row)} fields, the header {len(header)}")
        cell = dict(zip(header, row))
        # The query asks the server for status 200 only; checked again because a mirror may ignore filters.
        if (cell.get("statuscode", "200") != "200" or not _TIMESTAMP.match(cell["timestamp"])
                or cell["timestamp"][:8] < since or not workbook_name(cell["original"])):
            continue
        length = cell.get("length", "")
        captures.append(Capture(cell["timestamp"], cell["original"], cell["digest"],
                                int(length) if length.isdigit() else None))
    return captures, resume


def _list_captures(session: _Session, cdx_url: str, since: date | None) -> list[Capture]:
    """Every workbook capture under ARCHIVE_PREFIXES (from ``since`` on), oldest first."""
    since_text = since.strftime("%Y%m%d") if since else ""
    captures: list[Capture] = []
    for prefix in ARCHIVE_PREFIXES:
        params = {"url": prefix, "matchType": "prefix", "output": "json", "fl": CDX_FIELDS,
                  "filter": "statuscode:200", "collapse": "digest", "limit": str(CDX_PAGE_ROWS),
                  "showResumeKey": "true"}
        if since_text:
            params["from"] = since_text
        for _ in range(MAX_CDX_PAGES):
            page, resume = _cdx_page(session.get_json(cdx_url, params), cdx_url, since_text)
            captures += page
            if not resume:
                break
            params["resumeKey"] = resume
        else:
            raise FetchError(f"{cdx_url}: more than {MAX_CDX_PAGES} pages of captures; narrow with --since")
    return sorted(set(captures), key=lambda c: (c.timestamp, c.original))


# --- the destination folder ---------------------------------------------------------------------------------


def _read_tsv(path: Path, fields: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = set(fields) - set(reader.fieldnames or ())
        if missing:
            raise SourceError(path, f"not an icetrack archive file: no {', '.join(sorted(missing))} column")
        return list(enumerate(reader, 2))


def _write_tsv(path: Path, fields: tuple[str, ...], rows: Iterable[dict[str, str]]) -> None:
    partial = path.with_name(path.name + ".part")
    with open(partial, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fields, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)  # a crash mid-write leaves the previous record intact


def _log_row(capture: Capture, sha256: str = "", skipped: str = "") -> dict[str, str]:
    return {"timestamp": capture.timestamp, "original_url": capture.original, "digest": capture.digest,
            "sha256": sha256, "skipped": skipped}


@dataclass
class _Folder:
    """What the destination folder holds: the capture log, and a file name and size per sha256."""

    path: Path
    log: dict[tuple[str, str], dict[str, str]]  # (timestamp, original URL) -> log row
    names: dict[str, str]  # sha256 -> file name
    sizes: dict[str, int]

    @classmethod
    def read(cls, path: Path) -> _Folder:
        names, sizes = {}, {}
        for entry in read_archive_manifest(path).values():
            if (path / entry.file_name).is_file():
                names[entry.sha256], sizes[entry.sha256] = entry.file_name, entry.size_bytes
        listed = set(names.values())
        for file in sorted(path.glob("*.xlsx")) if path.is_dir() else []:
            if file.name not in listed:  # a workbook put here some other way (icetrack fetch, by hand)
                sha, size = file_digest(file)
                names.setdefault(sha, file.name)
                sizes.setdefault(sha, size)
        log = {}
        for _, row in _read_tsv(path / CAPTURE_LOG, _LOG_FIELDS):
            if row["skipped"] or row["sha256"] in names:  # a deleted file is downloaded again
                log[(row["timestamp"], row["original_url"])] = row
        return cls(path, log, names, sizes)

    def survey(self, captures: list[Capture]) -> tuple[list[list[Capture]], dict, int]:
        """(captures to download grouped by digest, log rows for captures whose bytes are already here,
        the number of distinct files already here among the captures)."""
        by_digest = {r["digest"]: r["sha256"] for r in self.log.values() if r["sha256"]}
        pending: dict[str, list[Capture]] = {}
        known_rows, had = {}, set()
        for c in captures:
            row = self.log.get((c.timestamp, c.original))
            if row is not None:
                had.add(row["sha256"])
            elif c.digest in by_digest:
                known_rows[(c.timestamp, c.original)] = _log_row(c, by_digest[c.digest])
                had.add(by_digest[c.digest])
            else:
                pending.setdefault(c.digest, []).append(c)
        return list(pending.values()), known_rows, len(had - {""})

    def place(self, capture: Capture, part: Path, sha256: str, size: int) -> Path | None:
        """Move the downloaded ``part`` to its file; None when these bytes are here already."""
        if sha256 in self.names:
            return None
        taken = set(self.names.values()) | {p.name for p in self.path.iterdir()}
        name = capture.file_name
        stem, suffix = name[:-len(".xlsx")], name[-len(".xlsx"):]
        candidates = [name, f"{capture.timestamp}-{name}"] + [f"{capture.timestamp}-{stem}-{k}{suffix}"
                                                              for k in range(2, 100)]
        name = next(c for c in candidates if c not in taken)
        target = self.path / name
        part.replace(target)
        self.names[sha256], self.sizes[sha256] = name, size
        return target

    def write(self, archive_url: str) -> Path:
        rows = sorted(self.log.values(), key=lambda r: (r["timestamp"], r["original_url"]))
        _write_tsv(self.path / CAPTURE_LOG, _LOG_FIELDS, rows)
        by_sha: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            if row["sha256"] in self.names:
                by_sha.setdefault(row["sha256"], []).append(row)
        entries = []
        for sha, seen in by_sha.items():
            first = Capture(seen[0]["timestamp"], seen[0]["original_url"], seen[0]["digest"])
            entries.append({"file_name": self.names[sha], "sha256": sha, "size_bytes": str(self.sizes[sha]),
                            "original_url": first.original, "first_capture": first.captured_at.strftime(_ISO),
                            "last_capture": Capture(seen[-1]["timestamp"], "", "").captured_at.strftime(_ISO),
                            "first_capture_url": first.view_url(archive_url), "captures": str(len(seen))})
        _write_tsv(self.path / MANIFEST, _MANIFEST_FIELDS, entries)
        return self.path / MANIFEST


# --- the public functions -----------------------------------------------------------------------------------


def plan_archive(dest: Path, *, since: date | None = None, archive_url: str = WAYBACK, cdx_url: str | None = None,
                 polite: Politeness = Politeness()) -> ArchivePlan:
    """What :func:`fetch_archive` would download into ``dest`` (asks only the CDX API; writes nothing)."""
    folder = _Folder.read(dest)
    with _Session(polite) as session:
        captures = _list_captures(session, cdx_url or archive_url.rstrip("/") + CDX_PATH, since)
    pending, _, had = folder.survey(captures)
    return ArchivePlan(pending, len(captures), had)


def fetch_archive(dest: Path, *, since: date | None = None, archive_url: str = WAYBACK, cdx_url: str | None = None,
                  polite: Politeness = Politeness(), progress: Progress | None = None) -> ArchiveResult:
    """Download into ``dest`` every workbook the archive holds (captured on or after ``since``) whose bytes
    ``dest`` does not already hold, and rewrite the capture log and the manifest there.

    A persistent failure (429, 5xx, lost connection after the retries) stops the run with a FetchError; what
    was downloaded before it is kept and recorded."""
    dest.mkdir(parents=True, exist_ok=True)
    folder = _Folder.read(dest)
    result = ArchiveResult(manifest=dest / MANIFEST)
    with _Session(polite) as session:
        captures = _list_captures(session, cdx_url or archive_url.rstrip("/") + CDX_PATH, since)
        pending, known_rows, _ = folder.survey(captures)
        result.listed = len(captures)
        folder.log.update(known_rows)
        try:
            for done, group in enumerate(pending):
                if progress:
                    progress(done, len(pending), f"{group[0].file_name} ({group[0].captured_at:%Y-%m-%d})")
                _fetch_one(session, folder, group, archive_url, result)
            if progress:
                progress(len(pending), len(pending), "done")
        except FetchError as e:
            raise FetchError(f"{e}; the {len(result.new_files)} file(s) downloaded before it are kept in "
                             f"{dest}") from None
        finally:
            folder.write(archive_url)
    new_names = {p.name for p in result.new_files}
    listed = {row["sha256"] for c in captures if (row := folder.log.get((c.timestamp, c.original)))}
    result.already_had = len({sha for sha in listed - {""} if folder.names[sha] not in new_names})
    return result


def _fetch_one(session: _Session, folder: _Folder, group: list[Capture], archive_url: str,
               result: ArchiveResult) -> None:
    """Download one payload (the first of its captures that the archive serves) and record every capture."""
    for capture in group[:TRIES_PER_CONTENT]:
        part = folder.path / f"{capture.file_name}.part"
        try:
            outcome = session.download(capture.raw_url(archive_url), part)
            path = folder.place(capture, part, *outcome) if isinstance(outcome, tuple) else None
        finally:
            part.unlink(missing_ok=True)  # left only when the capture was refused or the download failed
        if isinstance(outcome, tuple):
            for c in group:  # one digest, one payload: every capture of the group holds these bytes
                folder.log[(c.timestamp, c.original)] = _log_row(c, outcome[0])
            if path is not None:
                result.new_files.append(path)
            return
        result.skipped.append(f"{capture.timestamp} {capture.original}: {outcome}")
        oversized = outcome.startswith("larger than")
        for c in group if oversized else [capture]:  # the other captures of an oversized payload are as large
            folder.log[(c.timestamp, c.original)] = _log_row(c, skipped=outcome)
        if oversized:
            return


def read_archive_manifest(folder: Path) -> dict[str, ArchiveCapture]:
    """The files an archive download left in ``folder``, by sha256 (empty when it holds no manifest)."""
    path = Path(folder) / MANIFEST
    entries = {}
    for line, row in _read_tsv(path, _MANIFEST_FIELDS):
        try:
            if not re.fullmatch(r"[0-9a-f]{64}", row["sha256"] or ""):
                raise ValueError(f"sha256 {row['sha256']!r} is not 64 hex digits")
            entry = ArchiveCapture(
                file_name=row["file_name"], sha256=row["sha256"], size_bytes=int(row["size_bytes"]),
                original_url=row["original_url"],
                first_capture=datetime.strptime(row["first_capture"], _ISO).replace(tzinfo=UTC),
                last_capture=datetime.strptime(row["last_capture"], _ISO).replace(tzinfo=UTC),
                archive_url=row["first_capture_url"], captures=int(row["captures"]))
        except (TypeError, ValueError) as e:
            raise SourceError(path, f"line {line}: {e}") from None
        entries[entry.sha256] = entry
    return entries
