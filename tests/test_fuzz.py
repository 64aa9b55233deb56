"""Fuzzing the readers: whatever the bytes, a reader returns its result or refuses with its one-line error
(:class:`SourceError` for the figures and targets CSVs and the workbook reader, :class:`ClaimsFileError` for
the claims loader) - never another exception, a traceback or a hang.

Inputs start from valid files (the test CSVs below, the bundled claims file, a small openpyxl workbook and, when
``helpers.shared_data_dir`` holds them, a real ICE workbook) and are mutated: bytes inserted, deleted and replaced,
cells and scalars swapped for hostile values (non-finite numbers, impossible dates, huge numbers, markup, YAML
aliases, far cell references). The budget is fixed and the search derandomized, so a CI run is reproducible
and takes well under a minute.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from helpers import shared_data_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icetrack.claims import ClaimsFileError, parse_claims
from icetrack.domain.edition import ParsedSource, SourceError
from icetrack.sources.ice_detention import parse_workbook
from icetrack.sources.user_csv import parse_csv


def budget(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="icetrack-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def assert_one_line(error: BaseException, name: str) -> None:
    message = str(error)
    assert "\n" not in message and message.startswith(name), message


# --- mutations -----------------------------------------------------------------------------------------------

HOSTILE_CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "-0", "1e400", "1E+308", "9" * 400, "0x10", "1_000",
                 "1,200", "2025-02-30", "0001-01-01", "9999-12-31", "2025-13-01", "20250203", "javascript:alert(1)",
                 "https://", "https://x.org/a b", "\x00", "\u00e9", "\u202e", "\ufeff", '"', '""', ",", "\r", "\n",
                 "a" * 600, "m" * 70, "dim_", "target", "baseline", "national", "field_office", "arrests per day"]


@st.composite
def mutated(draw, base: bytes, cells: list[str], separators: bytes = b",\n") -> bytes:
    """``base`` after up to eight edits: a byte run inserted, deleted or replaced, a field swapped for a hostile
    value, a line repeated or dropped."""
    out = bytearray(base)
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(out)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "field", "field", "line"]))
        if op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=12) | st.sampled_from([b",", b"\n", b'"', b"\x00"]))
        elif op == "delete":
            del out[pos:pos + draw(st.integers(1, 12))]
        elif op == "replace":
            out[pos:pos + 1] = draw(st.binary(min_size=1, max_size=2))
        elif op == "field":
            starts = [0] + [i + 1 for i, b in enumerate(out) if b in separators]
            start = draw(st.sampled_from(starts))
            end = next((i for i in range(start, len(out)) if out[i] in separators), len(out))
            value = draw(st.sampled_from(cells) | st.text(max_size=16))
            out[start:end] = value.encode("utf-8", "surrogatepass")
        else:
            lines = bytes(out).split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines[k:k + 1] = draw(st.sampled_from([[], [lines[k]] * 2, [lines[k]] * 3]))
            out = bytearray(b"\n".join(lines))
    return bytes(out)


# --- figures and targets CSV -----------------------------------------------------------------------------------

FIGURES = (b"date,measure,value,unit,source_url,period_end,dim_aor,note\n"
           b"2025-02-03,ice_posted_arrests,1200,arrests,https://example.org/post-1,,,a new post\n"
           b"2025-02-04,ice_posted_arrests,1150,arrests,https://example.org/post-2,,,\n"
           b"2025-02-03,ice_posted_arrests,60,arrests,https://example.org/post-1,,Seattle,field office figure\n"
           b"2025-01-01,book_ins,3100,book-ins,https://example.org/wb,2025-01-31,,\n")
TARGETS = (b"target_id,kind,label,concept,scope,value_low,value_high,unit,source_url,announced_on,note\n"
           b"quota,target,Daily quota,arrests,national,1200,1500,arrests per day,https://example.org/t,2025-01-26,\n"
           b"fo_goal,target,Field office goal,arrests,field_office,75,75,arrests per day,https://example.org/f,,x\n"
           b"fy24,baseline,FY2024 average,arrests,national,310,310,arrests per day,https://example.org/b,,\n")


def check_csv(folder: Path, data: bytes) -> None:
    path = folder / "f.csv"
    path.write_bytes(data)
    try:
        result = parse_csv(path)
    except SourceError as err:
        assert_one_line(err, "f.csv")
    else:
        assert isinstance(result, ParsedSource)


def test_the_valid_csvs_parse(scratch):
    for data, rows, targets in ((FIGURES, 4, 0), (TARGETS, 0, 3)):
        (scratch / "ok.csv").write_bytes(data)
        parsed = parse_csv(scratch / "ok.csv")
        assert (parsed.observations.num_rows, len(parsed.targets)) == (rows, targets)


@budget(300)
@given(data=mutated(FIGURES, HOSTILE_CELLS))
def test_figures_csv_fuzz(scratch, data):
    check_csv(scratch, data)


@budget(300)
@given(data=mutated(TARGETS, HOSTILE_CELLS))
def test_targets_csv_fuzz(scratch, data):
    check_csv(scratch, data)


# --- claims YAML -------------------------------------------------------------------------------------------------

BUNDLED_CLAIMS = (resources.files("icetrack") / "data" / "claims" / "nbc_2025_02.yaml").read_bytes()
HOSTILE_SCALARS = [".nan", ".inf", "-.inf", "-5", "1.0e+400", "9" * 5000, "*a", "&a x", "!!float x", "!!timestamp x",
                   "!!binary x", "!!python/name:os.system", "[[[[", "]]", "{", "}", "- - -", "2025-13-45", "~", "null",
                   "yes", "'", '"', "|", ">", "? x", "<<: {}", "%YAML 1.1", "---", "...", "@", "`", "\t", "{op: x}",
                   "[1, 2, 3]", "{start: 2025-01-01, end: 2024-01-01}", "arrests.ice_posted@99", "5%", "-5%"]


@budget(300)
@given(data=mutated(BUNDLED_CLAIMS, HOSTILE_SCALARS, separators=b" \n:"))
def test_claims_yaml_fuzz(data):
    text = data.decode("utf-8", "replace")
    try:
        claims = parse_claims(text, "c.yaml")
    except ClaimsFileError as err:
        assert err.problems and all("\n" not in p and p.startswith("c.yaml: ") for p in err.problems), err.problems
    else:
        assert all(c.comparison is not None and c.metric is not None for c in claims)


# --- workbooks -----------------------------------------------------------------------------------------------------

WORKBOOK_NAME = "FY25_detentionStats01012025.xlsx"


def small_workbook() -> bytes:
    """A small valid xlsx (openpyxl) with the sheets the reader looks for and a formula with its cached value
    (written by hand: openpyxl writes none)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Detention FY25"
    ws.append(["ICE Currently Detained by Criminality and Arresting Agency"])
    ws.append(["Criminality", "ICE", "CBP", "Total"])
    ws.append(["Convicted Criminal", 100, 20, 120])
    facilities = wb.create_sheet("Facilities FY25")
    facilities.append(["Data Source: ICE Integrated Decision Support (IIDS), 01/06/2025"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zin:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b'<c r="D3" t="n"><v>120</v></c>', b'<c r="D3"><f>B3+C3</f><v>120</v></c>')
                zout.writestr(info, data)
    return out.getvalue()


def check_workbook(folder: Path, data: bytes) -> None:
    path = folder / WORKBOOK_NAME
    path.write_bytes(data)
    try:
        result = parse_workbook(path)
    except SourceError as err:
        assert_one_line(err, WORKBOOK_NAME)
    else:
        assert isinstance(result, ParsedSource)


SMALL_WORKBOOK = small_workbook()


@budget(150)
@given(data=mutated(SMALL_WORKBOOK, [""], separators=b"\x00"))
def test_workbook_bytes_fuzz(scratch, data):
    check_workbook(scratch, data)


HOSTILE_VALUES = ["-8611", "1E+400", "1E+308", "NaN", "", "abc", "9" * 30, "-0", "0.5", "1e-300"]
HOSTILE_REFS = ["XFD1048576", "ALM2", "A0", "A1048577", "a1", "1", "ZZZZZZZZZZZZZ1", "A" + "9" * 20, ""]
_CELL = re.compile(rb'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)


@st.composite
def mutated_sheet(draw, xml: bytes) -> bytes:
    """A sheet's XML with up to six cells changed: value, type, address, formula without its value, or gone."""
    cells = list(_CELL.finditer(xml))
    edits = {}
    for _ in range(draw(st.integers(1, 6))):
        m = draw(st.sampled_from(cells))
        ref = m.group(1).decode()
        op = draw(st.sampled_from(["value", "text", "shared", "ref", "ref", "formula", "drop"]))
        if op == "value":
            new = f'<c r="{ref}"><v>{draw(st.sampled_from(HOSTILE_VALUES))}</v></c>'
        elif op == "text":
            text = draw(st.sampled_from(HOSTILE_VALUES + ["N/A", "(b)(6)"]))
            new = f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
        elif op == "shared":
            new = f'<c r="{ref}" t="s"><v>{draw(st.sampled_from(["-1", "999999999", "0", "x"]))}</v></c>'
        elif op == "ref":
            new = f'<c r="{draw(st.sampled_from(HOSTILE_REFS))}"><v>1</v></c>'
        elif op == "formula":
            new = f'<c r="{ref}"><f>SUM(A1:A2)</f></c>'
        else:
            new = ""
        edits[m.start()] = (m.end(), new.encode())
    out, pos = [], 0
    for start in sorted(edits):
        if start < pos:
            continue
        end, new = edits[start]
        out += [xml[pos:start], new]
        pos = end
    return b"".join(out + [xml[pos:]])


SHARED = shared_data_dir()
REAL_WORKBOOK = SHARED / "ice-detention-stats" / "FY25_detentionStats06052025.xlsx" if SHARED else None
needs_workbook = pytest.mark.skipif(
    REAL_WORKBOOK is None or not REAL_WORKBOOK.is_file(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")


def real_parts() -> tuple[dict[str, bytes], str]:
    """The real workbook's parts and its Detention sheet's part name."""
    from icetrack.sources.ice_detention.workbook import check_container, find_sheet

    members = check_container(REAL_WORKBOOK)
    with zipfile.ZipFile(REAL_WORKBOOK) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    return parts, members[find_sheet(list(members), "detention")]


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


@needs_workbook
def test_real_workbook_cells_fuzz(scratch):
    parts, sheet = real_parts()
    assert parse_workbook(REAL_WORKBOOK).observations.num_rows > 2000  # the unmutated file parses

    @budget(80)
    @given(xml=mutated_sheet(parts[sheet]))
    def fuzz(xml):
        check_workbook(scratch, zipped({**parts, sheet: xml}))

    fuzz()
