"""Every published figure computed once: rows, provenance, definitions and its Vega-Lite chart spec."""
