"""Speed of generating problem variants with their worked solutions (issue: the problem bank).

Run by hand:  python benchmarks/bench_generate.py [--template mlp_2_2_1] [--small 40] [--large 400]

Marginal cost per variant = (time for `large` seeds − time for `small` seeds) / (large − small),
in one warm process, so start-up and import costs cancel. Measured twice: `generate` alone
(template + seed → Problem, which includes the engine's worked solution), and generate plus
rendering that worked solution as Markdown (what a key file costs). Target for the 2-2-1 MLP
template: ≤ 20 ms per variant (QuizGenerator: ~150 ms per neural-network variant). A line per
template in the bank follows, as an overview.
"""

from __future__ import annotations

import argparse
import time

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.worked.render import render_markdown
from backprop_tutor.bank.report import problem_report


def run(template, seeds: range, render: bool) -> float:
    start = time.perf_counter()
    for seed in seeds:
        problem = generate(template, seed)
        if render:
            render_markdown(problem_report(problem))
    return time.perf_counter() - start


def marginal(template, small: int, large: int, render: bool) -> float:
    """Seconds per variant; disjoint seed ranges so no cache can serve the second run."""
    t_small = run(template, range(10_000, 10_000 + small), render)
    t_large = run(template, range(20_000, 20_000 + large), render)
    return (t_large - t_small) / (large - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", default="mlp_2_2_1")
    parser.add_argument("--small", type=int, default=40)
    parser.add_argument("--large", type=int, default=400)
    parser.add_argument("--all", action="store_true", help="also a line per template in the bank (small=10, large=60)")
    args = parser.parse_args()
    bank = Bank.open()
    template = bank.load(args.template)
    run(template, range(3), True)  # warm up imports and caches
    generate_only = marginal(template, args.small, args.large, render=False)
    with_key = marginal(template, args.small, args.large, render=True)
    print(f"{args.template}: marginal per variant over {args.small}→{args.large} seeds")
    print(f"  generate (problem + worked solution)  {generate_only * 1000:7.2f} ms   (target ≤ 20 ms)")
    print(f"  generate + Markdown key rendered      {with_key * 1000:7.2f} ms")
    if args.all:
        for t in bank.templates():
            print(f"  {t.id:32} {marginal(t, 10, 60, render=False) * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
