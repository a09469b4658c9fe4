"""Speed of a mini-batch (issue 15): solving a batch of 2 examples against solving 1 example of
the same network, in process, median of repeats.

Run by hand:  python benchmarks/bench_batch.py [--repeat N]

"Solving" is what `tutor solve --network` computes for its text output: the engine's solution
(forward, backward, update, loss after, nudge checks) and the worked solution's steps and tables.
Target: a batch of 2 costs ≤ 2.5 × one example (each example is its own pass, so 2 × is the
floor; the rest is the batch's means and its longer worked solution).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.worked.network import network_steps
from backprop_tutor.worked.report import network_report

TARGET = 2.5


def network(sizes: list[int], examples: int, seed: int) -> dict:
    """The same layers for every batch size; examples drawn from one stream, so the batch of 2
    starts with the single example."""
    rng = random.Random(seed)
    dec = lambda: round(rng.uniform(-1, 1), 2)  # noqa: E731
    layers = [{"activation": "sigmoid", "weights": [[dec() for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
               "bias": [dec() for _ in range(sizes[l])]} for l in range(1, len(sizes))]
    batch = [{"input": [dec() for _ in range(sizes[0])], "target": [round(rng.uniform(0.1, 0.9), 2)
                                                                     for _ in range(sizes[-1])]}
             for _ in range(examples)]
    body = {"layers": layers, "loss": "half_sse", "learning_rate": 0.3}
    if examples == 1:
        return {"input": batch[0]["input"], "target": batch[0]["target"], **body}
    return {"examples": batch, **body}


def solve(data: dict) -> float:
    start = time.perf_counter()
    solution = solve_network(network_from_dict(data))  # a fresh network: nothing memoised from before
    solution.nudges
    network_report(solution, network_steps(solution))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ok = True
    for sizes in ([2, 2, 1], [2, 2, 2], [4, 8, 4]):
        one, two = network(sizes, 1, 7), network(sizes, 2, 7)
        solve(one), solve(two)  # warm SymPy's caches of the activation's and the loss's derivatives
        times = {1: [], 2: []}
        for _ in range(args.repeat):  # interleaved, so that load on the machine falls on both alike
            times[1].append(solve(one))
            times[2].append(solve(two))
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        ratio = t2 / t1
        ok &= ratio <= TARGET
        print(f"{'-'.join(map(str, sizes)):>6}: 1 example {t1 * 1000:7.1f} ms, batch of 2 {t2 * 1000:7.1f} ms, "
              f"ratio {ratio:.2f} ({'≤' if ratio <= TARGET else '>'} {TARGET}: {'ok' if ratio <= TARGET else 'SLOW'})")
    print("all within target" if ok else "over target")


if __name__ == "__main__":
    main()
