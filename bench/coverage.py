"""The receivers' geometry: time to compute the GDOP grid and the warnings.

N receivers spread over Europe (seeded), a grid of CELLS x CELLS; prints each run's time
(the first pays numpy's warm-up).

    python bench/coverage.py --receivers 1000 --cells 40
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from backend.locating.geometry import coverage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    receivers = {f"rx-{i:04d}": (36 + rng.random() * 20, -8 + rng.random() * 30) for i in range(args.receivers)}
    print(f"# machine: {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__}; "
          f"{args.receivers} receivers, {args.cells}x{args.cells} cells")
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        answer = coverage(receivers, 1e-6, args.cells)
        print(f"run {run}: {(time.perf_counter() - started) * 1000:.0f} ms, {len(answer['features'])} cells, "
              f"{len(answer['warnings'])} warnings")


if __name__ == "__main__":
    main()
