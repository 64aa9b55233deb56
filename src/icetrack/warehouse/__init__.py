"""The warehouse: the only code that issues SQL against the store (DuckDB by default, Spark for metrics).

``open_warehouse`` opens the embedded DuckDB file; every published figure is read through a
:mod:`~icetrack.warehouse.vintage` (which edition's value of each figure a reader means).
"""

from icetrack.warehouse.store import (
    LoadResult,
    Warehouse,
    WarehouseError,
    WarehouseLocked,
    default_warehouse_path,
    open_warehouse,
)

__all__ = ["LoadResult", "Warehouse", "WarehouseError", "WarehouseLocked", "default_warehouse_path",
           "open_warehouse"]
