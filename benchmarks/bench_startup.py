"""Start-up time of the commands that do no mathematics, and of practice's first prompt.

Run by hand:  python benchmarks/bench_startup.py [--repeat N]

Every command runs as a whole process, interleaved with `python -c "import sympy"` in the same
rounds (so a busy machine slows both alike); each figure is the median of N rounds and its ratio
to the median of `import sympy`. Targets:

  * `tutor --help`, `tutor --version`, `tutor bank list`, `tutor stats` ≤ 0.4 × import sympy:
    none of them does mathematics, so none should pay for SymPy;
  * `tutor practice` shows its first prompt within 1.5 × import sympy: the time is taken when
    the prompt (`ID>` at the start of a line) reaches stdout; then it is sent `quit`.

The commands run as on an installed copy: one unmeasured round first writes the bytecode
(PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED are dropped from their environment; pip writes
bytecode at install, and a user's Python buffers its output) and the catalogue cache (in a
temporary TUTOR_CACHE). The rows marked "no cache" read every template's YAML, as the first run
after an upgrade or an edit does; they are shown without a target. Exit status 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# What practice shows at a part, before any answer. Piped, the prompt's final space is held back
# until the answer follows it (cli/common.TrimmedLines), so it may not have arrived yet.
PROMPT = re.compile(rb"(?:^|\n)[A-Za-z0-9_]+> ?$")
PROMPT_WAIT = 60  # seconds; a prompt that never comes ends the benchmark instead of hanging it
QUICK = 0.4
PRACTICE = 1.5
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}


def tutor() -> str:
    beside = Path(sys.executable).parent / "tutor"  # the script of the Python running this benchmark
    return str(beside) if beside.exists() else shutil.which("tutor") or sys.exit("install the package first: pip install .")


def whole_run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**ENV, **env})
    return time.perf_counter() - start


def first_prompt(command: list[str]) -> float:
    """Seconds from starting `command` until its stdout ends with a prompt (it waits there for an
    answer, so nothing follows the prompt); it is then sent `quit`."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=ENV)
    seen = b""
    while not PROMPT.search(seen):
        if not select.select([process.stdout], [], [], PROMPT_WAIT)[0]:
            process.kill()
            sys.exit(f"{' '.join(command)}: no prompt within {PROMPT_WAIT} s:\n{seen.decode(errors='replace')}")
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            process.wait()
            sys.exit(f"{' '.join(command)}: ended without showing a prompt:\n{seen.decode(errors='replace')}")
        seen += chunk
    elapsed = time.perf_counter() - start
    process.stdin.write(b"quit\n")
    process.stdin.close()
    process.stdout.read()
    process.wait()
    return elapsed


def history(path: Path) -> None:
    """A progress file with a few attempts, so `tutor stats` prints its whole table."""
    from backprop_tutor.grading.result import Status
    from backprop_tutor.learner.store import Attempt, Store

    with Store.open(path) as store:
        store.start_session(1)
        for n, (skill, status) in enumerate([("forward_pass", Status.CORRECT), ("output_delta", Status.INCORRECT),
                                             ("output_delta", Status.CORRECT), ("hidden_delta", Status.CORRECT)]):
            store.record_attempt(Attempt("mlp_2_2_1", 1, f"p{n}", skill, "0.5", status, 1.0, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9, help="rounds (the median is reported)")
    args = parser.parse_args()
    command = tutor()
    with tempfile.TemporaryDirectory() as folder:
        stats_db = Path(folder) / "stats.sqlite3"
        history(stats_db)
        ENV["TUTOR_CACHE"] = str(Path(folder) / "cache")
        # piped (plain rows), and as in an 80-column terminal (rich draws the table)
        terminal = {"FORCE_COLOR": "1", "COLUMNS": "80"}
        quick = {
            "tutor --help": ([command, "--help"], {}),
            "tutor --version": ([command, "--version"], {}),
            "tutor bank list | cat": ([command, "bank", "list"], {}),
            "tutor bank list (terminal)": ([command, "bank", "list"], terminal),
            "tutor stats | cat": ([command, "stats", "--db", str(stats_db)], {}),
            "tutor stats (terminal)": ([command, "stats", "--db", str(stats_db)], terminal),
            "tutor bank list (terminal, no cache)": ([command, "bank", "list"], {**terminal, "TUTOR_CACHE": ""}),
        }
        samples: dict[str, list[float]] = {"import sympy": [], **{name: [] for name in quick}, "tutor practice": []}
        for n in range(-1, args.repeat):  # round -1 writes the bytecode and is not counted
            if n == 0:
                samples = {name: [] for name in samples}
            samples["import sympy"].append(whole_run([sys.executable, "-c", "import sympy"], {}))
            for name, (argv, env) in quick.items():
                samples[name].append(whole_run(argv, env))
            # a fresh progress file each round: the first session of a new learner, choosing for them
            fresh = Path(folder) / f"practice-{n}.sqlite3"
            samples["tutor practice"].append(first_prompt([command, "practice", "--seed", "1", "--db", str(fresh)]))
    median = {name: statistics.median(values) for name, values in samples.items()}
    base = median["import sympy"]
    missed = False
    print(f"{'command':<38} {'median':>9} {'ratio':>7}  target   ({args.repeat} interleaved rounds)")
    for name, seconds in median.items():
        target = (None if name == "import sympy" or "no cache" in name else PRACTICE if name == "tutor practice"
                  else QUICK)
        ratio = seconds / base
        if target is None:
            verdict = "" if name == "import sympy" else "(no target)"
        else:
            verdict = f"≤ {target:<4}  {'ok' if ratio <= target else 'MISSED'}"
        missed |= target is not None and ratio > target
        label = "tutor practice (first prompt)" if name == "tutor practice" else name
        print(f"{label:<38} {seconds * 1000:7.1f} ms {ratio:7.2f}  {verdict}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
