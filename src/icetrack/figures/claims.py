"""Public claims about enforcement numbers, each checked against the figures of the editions it cites."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from icetrack.claims import VERDICTS, check_claims, load_claims
from icetrack.figures.charts import WIDTH, NothingToDraw, title
from icetrack.figures.result import Result, provenance

DEFINITION = "Verdicts compare each claim with the figures of the editions cited in its evidence."
VERDICT_COLOURS = alt.Scale(domain=["supported", "contradicted", "depends on definition", "not checkable"],
                            range=["#27ae60", "#c0392b", "#e67e22", "#95a5a6"])


def check(wh) -> list[dict[str, Any]]:
    """Every bundled claim with its verdict and evidence (the expensive step; :func:`claims` filters it)."""
    return check_claims(wh, load_claims())


def claims(wh, verdict: str | None = None, *, checked: list[dict[str, Any]] | None = None) -> Result:
    """The claims with ``verdict`` (all when None); ``checked`` is :func:`check`'s answer when already known."""
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"unknown verdict '{verdict}'")
    chosen = [v for v in (check(wh) if checked is None else checked) if verdict is None or v["verdict"] == verdict]
    rows = [{"id": v["id"], "verdict": v["verdict"], "text": v["text"], "speaker": v["speaker"],
             "outlet": v["outlet"], "published_on": v["published_on"], "url": v["url"], "metric": v["metric"],
             "window_start": (v.get("window") or {}).get("start"), "window_end": (v.get("window") or {}).get("end"),
             "comparison": v.get("comparison"), "difference": v.get("difference"),
             "explanation": v.get("explanation")} for v in chosen]
    edition_ids = [e["edition_id"] for v in chosen for e in v.get("evidence", []) if e.get("edition_id")]
    return Result(rows, provenance(wh, edition_ids, DEFINITION), detail={"verdict": verdict, "claims": chosen})


def spec(claims_result: Result) -> alt.Chart:
    """How many claims got each verdict."""
    data = pd.DataFrame(claims_result.rows)
    if data.empty:
        raise NothingToDraw("no claims with this verdict")
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("verdict:N", title=None, sort="-x"), x=alt.X("count():Q", title="claims"),
        color=alt.Color("verdict:N", scale=VERDICT_COLOURS, legend=None),
        tooltip=["verdict:N", alt.Tooltip("count():Q", title="claims")],
    ).properties(width=WIDTH, height=160, title=title("Verdicts on the claims checked",
                                                        "Each claim compared with the cited editions' figures."))
