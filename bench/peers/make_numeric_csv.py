#!/usr/bin/env python3
"""Writes a numeric CSV file of about SIZE_MB megabytes (12 float columns and an integer label) for the CSV-reading
benchmark: random numbers with 6 to 8 significant digits, seeded.

    python3 bench/peers/make_numeric_csv.py FILE [SIZE_MB]
"""
import sys

import numpy as np


def main():
    path, size_mb = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = np.random.default_rng(0)
    rows_per_chunk = 100_000
    written = 0
    with open(path, "w") as f:
        f.write(",".join([f"f{i}" for i in range(12)] + ["label"]) + "\n")
        while written < size_mb * 1e6:
            x = rng.normal(size=(rows_per_chunk, 12)) * rng.choice([1, 100, 0.01], size=12)
            y = rng.integers(0, 2, rows_per_chunk)
            lines = "\n".join(",".join(f"{v:.7g}" for v in row) + f",{label}" for row, label in zip(x, y)) + "\n"
            f.write(lines)
            written += len(lines)


if __name__ == "__main__":
    main()
