"""Domain knowledge that every other layer shares: the measure catalogue and versioned definitions, edition
identity, the canonical person-level schema, and the counting rules. Imports nothing else of icetrack."""
