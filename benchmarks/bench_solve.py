"""Speed of `tutor --help` and of whole-process network solves (issue: engine and `tutor solve`).

Run by hand:  python benchmarks/bench_solve.py [--repeat N]

Targets:
  * `tutor --help` ≤ 0.6 × `python -c "import sympy"`, measured interleaved;
  * solving 4-16-16-4 ≤ 4 × solving 2-2-2 (whole process);
  * 8-32-32-8 minus 2-2-2 ≤ 8 × (4-16-16-4 minus 2-2-2): cost grows like backprop.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def network(sizes: list[int], seed: int) -> dict:
    rng = random.Random(seed)
    dec = lambda: round(rng.uniform(-1, 1), 2)  # noqa: E731
    return {
        "input": [dec() for _ in range(sizes[0])],
        "target": [round(rng.uniform(0.1, 0.9), 2) for _ in range(sizes[-1])],
        "layers": [{"activation": "sigmoid",
                    "weights": [[dec() for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
                    "bias": [dec() for _ in range(sizes[l])]} for l in range(1, len(sizes))],
        "loss": "half_sse", "learning_rate": 0.5,
    }


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(timed(command))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tutor = shutil.which("tutor") or sys.exit("install the package first: pip install .")

    help_times = interleaved({"tutor --help": [tutor, "--help"],
                              "import sympy": [sys.executable, "-c", "import sympy"]}, args.repeat)
    ratio = help_times["tutor --help"] / help_times["import sympy"]
    print(f"tutor --help      {help_times['tutor --help'] * 1000:7.1f} ms")
    print(f"import sympy      {help_times['import sympy'] * 1000:7.1f} ms")
    print(f"ratio             {ratio:7.2f}   (target ≤ 0.6)")

    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for sizes in ([2, 2, 2], [4, 16, 16, 4], [8, 32, 32, 8]):
            name = "-".join(map(str, sizes))
            files[name] = Path(tmp) / f"{name}.json"
            files[name].write_text(json.dumps(network(sizes, 1)))
        solve = {name: [tutor, "solve", "--network", str(path), "--format", fmt]
                 for name, path in files.items() for fmt in ("text",)}
        times = interleaved(solve, args.repeat)
    small, mid, large = (times[n] for n in ("2-2-2", "4-16-16-4", "8-32-32-8"))
    for name, value in times.items():
        print(f"solve {name:<11} {value * 1000:7.1f} ms")
    print(f"4-16-16-4 / 2-2-2                 {mid / small:6.2f}   (target ≤ 4)")
    print(f"(8-32-32-8 − 2-2-2)/(4-16-16-4 − 2-2-2) {(large - small) / (mid - small):6.2f}   (target ≤ 8; parameters ×3.9)")


if __name__ == "__main__":
    main()
