"""Download the current ICE detention workbook from ICE's Detention Management page.

Only this module and ``sources.archive`` (past editions from the Wayback Machine) talk to the network, and
only when a user runs ``icetrack fetch``; tests point them at a local HTTP server. Downloads are streamed to a
``.part`` file with a size cap and renamed when complete, so an interrupted download never looks like a
workbook.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

DETENTION_PAGE = "https://www.ice.gov/detain/detention-management"
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024  # ICE's workbooks are 0.1-2 MB
# Says who is asking, so a site operator who sees unusual traffic knows what it is.
USER_AGENT = "icetrack (public-interest statistics)"
_LINK_RE = re.compile(r"""href\s*=\s*["']([^"']+?\.xlsx)["']""", re.I)
_NAME_DATE_RE = re.compile(r"(\d{2})(\d{2})(\d{4})\.xlsx$", re.I)  # ..._MMDDYYYY.xlsx


class FetchError(RuntimeError):
    """One-line, user-facing: what could not be fetched and why."""


def workbook_links(html: str, page_url: str) -> list[str]:
    """Absolute URLs of detention-statistics workbooks linked from the page, newest first where dated."""
    links = []
    for href in _LINK_RE.findall(html):
        url = urljoin(page_url, href)
        if "detentionstat" in Path(urlparse(url).path).name.lower() and url not in links:
            links.append(url)

    def newest_first(url: str) -> tuple:
        m = _NAME_DATE_RE.search(url)
        return (m[3], m[1], m[2]) if m else ("0000", "00", "00")

    return sorted(links, key=newest_first, reverse=True)


def fetch_ice_detention(dest: Path, page_url: str = DETENTION_PAGE, timeout: float = 30.0) -> Path:
    """Download the newest workbook linked from ``page_url`` into ``dest``; return its path."""
    host = urlparse(page_url).netloc or page_url
    partial: Path | None = None
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": USER_AGENT}) as client:
            page = client.get(page_url)
            page.raise_for_status()
            links = workbook_links(page.text, str(page.url))
            if not links:
                raise FetchError(f"{page_url}: no detention-statistics workbook (.xlsx) linked from the page")
            url = links[0]
            dest.mkdir(parents=True, exist_ok=True)
            target = dest / Path(urlparse(url).path).name
            partial = target.with_name(target.name + ".part")
            with client.stream("GET", url) as response:
                response.raise_for_status()
                size = 0
                with open(partial, "wb") as fh:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > MAX_DOWNLOAD_BYTES:
                            raise FetchError(f"{url}: larger than {MAX_DOWNLOAD_BYTES:,} bytes; refusing")
                        fh.write(chunk)
            partial.replace(target)
            return target
    except httpx.HTTPError as e:
        raise http_failure(e, host, timeout) from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)  # only left behind when the download failed


def http_failure(error: httpx.HTTPError, host: str, timeout: float) -> FetchError:
    """The one-line FetchError for an httpx failure (status, unreachable host, timeout, anything else)."""
    if isinstance(error, httpx.HTTPStatusError):
        return FetchError(f"{error.request.url}: HTTP {error.response.status_code}")
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
        return FetchError(f"cannot reach {host} (offline or blocked?): {' '.join(str(error).split())[:120]}")
    if isinstance(error, httpx.TimeoutException):
        return FetchError(f"{host}: no answer within {timeout:g} s")
    return FetchError(f"{host}: {type(error).__name__}: {' '.join(str(error).split())[:120]}")
