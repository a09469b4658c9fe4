"""Peak memory of `tutor generate` for a large class (issue 13, point 11): 1000 students × 3 templates.

Run by hand:  python benchmarks/bench_memory.py [--count 1000] [--jobs 1] [--templates ID ...]

The command runs as a whole process (the tutor beside the Python running this benchmark), without
--pdf, into a temporary folder; the figure is the peak resident set size of the largest process it
started (getrusage(RUSAGE_CHILDREN).ru_maxrss; with --jobs N each worker counts on its own, not
summed). Target: ≤ 150 MB, which holds only if the students are streamed to disk as they are made
rather than the whole class held in memory. The three templates cover every kind of Moodle
question: mlp_2_2_1 (numbers), softmax_cross_entropy_2_3_2 (vectors and matrices, cloze) and
activation_derivative_symbolic (an expression, graded by hand). Exit status 1 when the target is
missed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_startup import tutor  # the tutor beside the Python running this (benchmarks/ is on sys.path)

TARGET_MB = 150
DEFAULT = ["mlp_2_2_1", "softmax_cross_entropy_2_3_2", "activation_derivative_symbolic"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="students (default 1000)")
    parser.add_argument("--jobs", type=int, default=1, help="tutor generate --jobs (default 1)")
    parser.add_argument("--templates", nargs="+", default=DEFAULT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        command = [tutor(), "generate", *args.templates, "--count", str(args.count), "--seed", "2026",
                   "--jobs", str(args.jobs), "--out", str(Path(folder) / "set")]
        start = time.perf_counter()
        run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(command)}: exit {run.returncode}\n{run.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    ok = peak <= TARGET_MB
    print(f"tutor generate {' '.join(args.templates)} --count {args.count} --jobs {args.jobs}")
    print(f"peak RSS {peak:.1f} MB in {seconds:.1f} s (target <= {TARGET_MB} MB): {'ok' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
