#!/usr/bin/env python3
"""pandas.read_csv on a numeric CSV file, in megabytes per second (the median of a few reads), as JSON in the schema
of torch_bench.py. Dev-time peer of swift-tune's "csv read" benchmark.

    python3 bench/peers/pandas_csv.py FILE [--quick]
"""
import json
import os
import statistics
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    reads = 2 if "--quick" in sys.argv else 4
    size = os.path.getsize(path)
    times = []
    for _ in range(reads):
        start = time.perf_counter()
        frame = pd.read_csv(path)
        times.append(time.perf_counter() - start)
        assert len(frame) > 0
    json.dump({"tool": "pandas", "version": pd.__version__,
               "results": [{"name": "csv read", "unit": "MB/s", "value": round(size / 1e6 / statistics.median(times), 2)}]},
              sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
