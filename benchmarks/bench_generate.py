"""Speed of generating problem variants with their worked solutions (issues: the problem bank;
"One backprop, three uses": every template ≤ 20 ms per variant, the median template ≤ 8 ms).

Run by hand:  python benchmarks/bench_generate.py [--template mlp_2_2_1] [--small 40] [--large 400] [--all]

Marginal cost per variant = (time for `large` seeds − time for `small` seeds) / (large − small),
in one warm process, so start-up and import costs cancel; each is measured `--repeat` times and
the fastest kept (like timeit: the others measured the machine's other work, not ours).
Measured twice: `generate` alone (template + seed → Problem, which includes the engine's worked
solution), and generate plus rendering that worked solution as Markdown (what a key file costs).
With --all, a line per template in the bank, and the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

try:
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate
    from backprop_tutor.bank.report import problem_report
    from backprop_tutor.worked.render import render_markdown
except ImportError:  # a revision from before the subpackages, measured by before_after.py
    from backprop_tutor.bank import Bank
    from backprop_tutor.generate import generate
    from backprop_tutor.render import render_markdown
    from backprop_tutor.report import problem_report


def run(template, seeds: range, render: bool) -> float:
    start = time.perf_counter()
    for seed in seeds:
        problem = generate(template, seed)
        if render:
            render_markdown(problem_report(problem))
    return time.perf_counter() - start


def marginal(template, small: int, large: int, render: bool, repeat: int) -> float:
    """Seconds per variant; disjoint seed ranges so no cache can serve the second run."""
    best = float("inf")
    for r in range(repeat):
        t_small = run(template, range(10_000 + 1000 * r, 10_000 + 1000 * r + small), render)
        t_large = run(template, range(20_000 + 1000 * r, 20_000 + 1000 * r + large), render)
        best = min(best, (t_large - t_small) / (large - small))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", default="mlp_2_2_1")
    parser.add_argument("--small", type=int, default=40)
    parser.add_argument("--large", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also a line per template in the bank (small=10, large=60)")
    args = parser.parse_args()
    bank = Bank.open()
    template = bank.load(args.template)
    run(template, range(3), True)  # warm up imports and caches
    generate_only = marginal(template, args.small, args.large, False, args.repeat)
    with_key = marginal(template, args.small, args.large, True, args.repeat)
    print(f"{args.template}: marginal per variant over {args.small}→{args.large} seeds, best of {args.repeat}")
    print(f"  generate (problem + worked solution)  {generate_only * 1000:7.2f} ms   (target ≤ 20 ms)")
    print(f"  generate + Markdown key rendered      {with_key * 1000:7.2f} ms")
    if args.all:
        times = {}
        for t in bank.templates():
            times[t.id] = marginal(t, 10, 60, False, args.repeat)
            print(f"  {t.id:32} {times[t.id] * 1000:7.2f} ms")
        slowest = max(times, key=times.get)
        print(f"  median template {statistics.median(times.values()) * 1000:.2f} ms (target ≤ 8 ms); "
              f"slowest {slowest} {times[slowest] * 1000:.2f} ms (target ≤ 20 ms)")


if __name__ == "__main__":
    main()
