"""Models built on the warehouse's official series (see :mod:`icetrack.model.capacity`)."""

from icetrack.model.capacity import (
    Calibration,
    backtest,
    calibrate,
    goal_seek,
    project,
    steady_state,
)

__all__ = ["Calibration", "backtest", "calibrate", "goal_seek", "project", "steady_state"]
