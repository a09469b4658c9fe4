"""Before and after, measured in one run: the generation and grading benchmarks of an earlier
revision and of the working tree, one after the other, on the same machine in the same minutes.

Run by hand:  python benchmarks/before_after.py REVISION   (e.g. 1193f73)

The earlier revision is checked out into a temporary git worktree; the working tree's benchmark
scripts measure both (each package first on PYTHONPATH in turn), so the method is the same; the
worktree is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = (("bench_generate.py", "--all"), ("bench_grading.py",))


def measure(tree: Path, label: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for script, *args in SCRIPTS:
        print(f"--- {label}: {script} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=tree, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="the earlier revision, e.g. a commit id")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = Path(folder) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), args.revision], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            measure(before, f"before ({args.revision})")
            measure(ROOT, "after (working tree)")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
