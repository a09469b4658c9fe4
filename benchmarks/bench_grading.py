"""Grading speed in a warm process (issue: the grader).

Run by hand:  python benchmarks/bench_grading.py [--seeds N]

For every part of every template in the bank, for several seeds, grades the key and a wrong
answer (the key's number scaled by 1.1, or the expression plus 1) through `grade_part`, which
includes parsing, comparison and mistake diagnosis. Targets: median ≤ 10 ms, p99 ≤ 200 ms
(STACK's warm Maxima answer test: 9.2 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.grading.grade import grade_part


def wrong(answer: str, expression: bool) -> str:
    return f"({answer}) + 1" if expression else f"1.1*({answer})" if not answer.startswith("[") else answer.replace("1", "2", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    bank = Bank.open()
    problems = [generate(bank.load(t), seed) for t in bank.paths() for seed in range(args.seeds)]
    grade_part(problems[0], problems[0].parts[0].id, problems[0].parts[0].answer)  # warm up imports and caches
    times = []
    for problem in problems:
        for part in problem.parts:
            for answer in (part.answer, wrong(part.answer, part.value.expression)):
                start = time.perf_counter()
                grade_part(problem, part.id, answer)
                times.append(time.perf_counter() - start)
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    print(f"{len(times)} gradings over {len(problems)} problems")
    print(f"median {statistics.median(times) * 1000:7.2f} ms   (target ≤ 10 ms)")
    print(f"p99    {p99 * 1000:7.2f} ms   (target ≤ 200 ms)")
    print(f"max    {times[-1] * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
