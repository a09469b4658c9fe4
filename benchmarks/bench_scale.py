"""Cost grows like backprop (issue 13, point 7): a chain of 1-unit layers, solved whole-process.

Run by hand:  python benchmarks/bench_scale.py [--repeat N] [--small 200] [--large 2000]

Target: `tutor solve --network` on the 2000-layer chain takes ≤ 10 × the 200-layer chain (linear
in the layers; the process start, about 0.6 s, is in both). The widest layer and the deepest
`--expression` the tutor accepts are timed too, for the report (their limits are in
docs/formats.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chain(layers: int) -> dict:
    """1 input, `layers` sigmoid layers of one unit each: the deepest network per parameter."""
    return {
        "input": [0.5], "target": [0.2],
        "layers": [{"activation": "sigmoid", "weights": [[0.5]], "bias": [0.1]} for _ in range(layers)],
        "loss": "half_sse", "learning_rate": 0.5,
    }


def wide(units: int) -> dict:
    """One layer of `units` units over `units` inputs: the widest layer per parameter."""
    return {
        "input": [round(0.01 * (k % 7), 2) for k in range(units)], "target": [0.5] * units,
        "layers": [{"activation": "sigmoid",
                    "weights": [[round(0.01 * ((j + k) % 5), 2) for k in range(units)] for j in range(units)],
                    "bias": [0.1] * units}],
        "loss": "half_sse", "learning_rate": 0.5,
    }


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_time(command: list[str], repeat: int) -> float:
    return statistics.median(timed(command) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "tutor"  # the script of the Python running this benchmark, not
    # whatever `tutor` comes first on PATH (an older install there measured the old code)
    tutor = str(beside) if beside.exists() else shutil.which("tutor") or sys.exit("install the package first: pip install .")

    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, data in ((f"chain {args.small}", chain(args.small)), (f"chain {args.large}", chain(args.large)),
                           ("one 100x100 layer", wide(100))):
            path = Path(tmp) / (name.replace(" ", "_") + ".json")
            path.write_text(json.dumps(data))
            files[name] = path
        times = {name: median_time([tutor, "solve", "--network", str(path)], args.repeat)
                 for name, path in files.items()}
    nested = "tanh(" * 8 + "w" + ")" * 8  # the deepest nest accepted (engine/expression.py MAX_CALL_DEPTH)
    times["--expression tanh nested 8 deep"] = median_time(
        [tutor, "solve", "--expression", nested, "--at", "w=0.5"], args.repeat)

    for name, seconds in times.items():
        print(f"{name:>36}: {seconds:6.2f} s")
    ratio = times[f"chain {args.large}"] / times[f"chain {args.small}"]
    verdict = "ok" if ratio <= 10 else "TOO SLOW"
    print(f"chain {args.large} / chain {args.small}: {ratio:.2f} (target ≤ 10): {verdict}")
    sys.exit(0 if ratio <= 10 else 1)


if __name__ == "__main__":
    main()
