"""Measures of alternatives to detention (the ATD sheet)."""

from __future__ import annotations

# Concepts these measures count that domain.catalogue.CONCEPTS does not have: {name: description}.
CONCEPTS: dict[str, str] = {}

# (name, label, concept or None, unit, definition)
MEASURES: list[tuple[str, str, str | None, str, str]] = []
