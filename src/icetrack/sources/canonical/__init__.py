"""Canonicalisation shared by the person-level readers (DDP files, ERO-LESA exports).

Records are already-anonymized public FOIA releases, used only for aggregate statistics. Nothing here
identifies, locates or profiles a person: direct-identifier columns (A-numbers, EID subject/person/case ids,
names, birth dates, employee ids) are never loaded - their cells are only counted (they are redacted in every
public file; an unredacted value would be dropped and reported in ``report.warnings``). Columns the crosswalk
does not know that look like direct identifiers, by name or by the shape of their values, are never loaded
either, and the file is refused unless the ingest policy drops them (:mod:`.identifiers`).

* :mod:`.crosswalk` - source column names -> canonical columns (``data/ddp_crosswalk.csv``, built by
  ``tools/build_crosswalk.py`` from the Deportation Data Project's codebook,
  https://deportationdata.org/docs/ice/codebook.html), matched case-, space- and punctuation-insensitively.
* :mod:`.values` - value cleaning: whitespace, blanks, FOIA redaction markers, dates, ``extra`` maps.
* :mod:`.identifiers` - direct identifiers by header name and by value shape.
* :mod:`.plan` - how the columns of one header become one canonical table, and the per-table report.
* :mod:`.release` - the edition of a person-level file and the data cut-off printed in its title.
"""
