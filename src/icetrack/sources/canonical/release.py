"""What a person-level reader says about the file itself: its edition and the data cut-off in its title."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from icetrack.domain.edition import EditionInfo, SourceError, file_digest

PARSER_VERSION = "1"

_RANGE_END = re.compile(r"\(\s*\d{1,2}/\d{1,2}/\d{2,4}\s*-\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\s*\)")
_THROUGH = re.compile(r"\bthrough\s+(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", re.IGNORECASE)


def title_cutoff(text: str) -> date | None:
    """The end date in a title: '(01/01/2012 - 07/06/2019)' -> 2019-07-06, 'through 04/27/2018' -> 2018-04-27."""
    for rx in (_RANGE_END, _THROUGH):
        m = rx.search(text or "")
        if m:
            mm, dd, yy = int(m.group(1)), int(m.group(2)), int(m.group(3))
            yy = yy + 2000 if yy < 100 else yy
            try:
                return date(yy, mm, dd)
            except ValueError:
                return None
    return None


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def person_edition(path: Path, source: str, publisher: str, *, title: str | None = None, note: str | None = None,
                   as_of: date | None = None, synthetic: bool = False, url: str | None = None) -> EditionInfo:
    """The edition of one person-level file (identified by its bytes)."""
    try:
        sha, size = file_digest(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror or exc}") from None
    return EditionInfo(source=source, publisher=publisher, file_name=path.name, sha256=sha, size_bytes=size,
                       parser_version=PARSER_VERSION, original_url=url, as_of=as_of, title=title, note=note,
                       synthetic=synthetic)
