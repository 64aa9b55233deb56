"""SYNTHETIC person-level releases for benchmarks and scale tests, calibrated to the national figures."""
