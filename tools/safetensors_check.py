#!/usr/bin/env python3
"""Cross-checks swift-tune's safetensors files with the reference implementation (the `safetensors` package).

    safetensors_check.py read FILE          prints every tensor of FILE as JSON {name: {"shape", "data"}}
    safetensors_check.py write FILE         writes a small F32 file with known tensors for swift-tune to read

Dev- and test-time tool only (needs `pip install safetensors numpy`); swift-tune never runs Python itself.
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "write"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    command, path = sys.argv[1], sys.argv[2]
    if command == "read":
        tensors = load_file(path)
        print(json.dumps({name: {"shape": list(t.shape), "dtype": str(t.dtype), "data": [float(v) for v in t.reshape(-1)]}
                          for name, t in tensors.items()}))
    else:
        save_file({"layers.0.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
                   "layers.0.bias": np.array([-1.5, 2.25], dtype=np.float32),
                   "scalar": np.array(3.5, dtype=np.float32)}, path, metadata={"written_by": "safetensors"})


if __name__ == "__main__":
    main()
