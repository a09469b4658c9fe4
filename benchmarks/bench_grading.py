"""Grading speed in a warm process (issues: the grader; "One backprop, three uses").

Run by hand:  python benchmarks/bench_grading.py [--seeds N]

For every part of every template in the bank, for several seeds, grades through `grade_part`
(parsing, comparison, error carried forward and diagnosis included):
- the key;
- a wrong answer (the key's numbers scaled by 1.1, or the expression plus 1), which runs the
  whole diagnosis: the template's mistakes, then every slip at every layer;
- the same wrong answer with every earlier part answered (with its key, as in a practice
  session), which also runs error carried forward and the evidence of the earlier answers.
Targets: median ≤ 10 ms, p99 ≤ 200 ms (STACK's warm Maxima answer test: 9.2 ms). The median of
the wrong answers alone is printed too: it is the number a learner who makes mistakes meets.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

try:
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate
    from backprop_tutor.grading.grade import grade_part
except ImportError:  # a revision from before the subpackages, measured by before_after.py
    from backprop_tutor.bank import Bank
    from backprop_tutor.generate import generate
    from backprop_tutor.grading import grade_part


def wrong(answer: str, expression: bool) -> str:
    if expression:
        return f"({answer}) + 1"
    return re.sub(r"-?\d+\.?\d*(?:e-?\d+)?", lambda m: repr(float(m[0]) * 1.1), answer)


def timed(problem, part_id: str, text: str, earlier=None) -> float:
    start = time.perf_counter()
    grade_part(problem, part_id, text, earlier)
    return time.perf_counter() - start


def report(label: str, times: list[float]) -> None:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    print(f"{label:34} n={len(times):4}  median {statistics.median(times) * 1000:6.2f} ms   "
          f"p99 {p99 * 1000:7.2f} ms   max {times[-1] * 1000:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    bank = Bank.open()
    problems = [generate(bank.load(t), seed) for t in bank.paths() for seed in range(args.seeds)]
    grade_part(problems[0], problems[0].parts[0].id, problems[0].parts[0].answer)  # warm up imports and caches
    keys, wrongs, with_earlier = [], [], []
    for problem in problems:
        earlier: dict[str, str] = {}
        for part in problem.parts:
            bad = wrong(part.answer, part.value.expression)
            keys.append(timed(problem, part.id, part.answer))
            wrongs.append(timed(problem, part.id, bad))
            with_earlier.append(timed(problem, part.id, bad, dict(earlier)))
            earlier[part.id] = part.answer
    print(f"{len(keys) * 3} gradings over {len(problems)} problems   (targets: median ≤ 10 ms, p99 ≤ 200 ms)")
    report("all answers", keys + wrongs + with_earlier)
    report("keys", keys)
    report("wrong answers", wrongs)
    report("wrong, earlier parts answered", with_earlier)


if __name__ == "__main__":
    main()
