"""Marginal cost of a class's homework: tutor generate and tutor grade for 40 and for 400
students; the difference divided by the extra work is the cost per problem variant (target
≤ 20 ms, sheets, keys, answer files and moodle.xml included) and per answer graded (≤ 10 ms).

Run by hand:  python benchmarks/bench_homework.py [--templates ID ...] [--jobs N]
The difference cancels the fixed costs (imports, loading templates, starting processes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

DEFAULT = ["mlp_2_2_1", "activation_derivative_symbolic", "neuron_sigmoid_bce"]


def generate_set(templates, students, seed: int, out: Path, jobs: int) -> None:
    from backprop_tutor.homework import writer as homework_writer

    homework_writer.generate_set(out, [t.id for t in templates], templates, students, seed, jobs)


def submissions(students: list[dict], folder: Path) -> int:
    """Half the class (set.json's students) hands in the keys, half a wrong number for every part
    (so mistakes are diagnosed and errors carried forward are looked for, the grader's slow path)."""
    folder.mkdir()
    answers = 0
    for i, student in enumerate(students):
        given = {}
        for problem in student["problems"]:
            for part in problem["parts"]:
                key = part["answer"]
                given[f"{problem['number']}.{part['id']}"] = key if i % 2 == 0 else (f"3*({key})" if any(
                    c.isalpha() for c in key) else key.replace("0.", "0.7", 1))
                answers += 1
        (folder / f"{student['id']}.yaml").write_text(yaml.safe_dump(given))
    return answers


def measure(templates, count: int, jobs: int) -> tuple[float, float, int, int]:
    from backprop_tutor.homework import gradebook
    from backprop_tutor.homework import assignment as homework
    from backprop_tutor.bank.folders import Bank

    students = homework.numbered_students(count)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set"
        start = time.perf_counter()
        generate_set(templates, students, 2026, out, jobs)
        generated = time.perf_counter() - start
        answers = submissions(json.loads((out / "set.json").read_text(encoding="utf-8"))["students"],
                              Path(tmp) / "subs")
        data = gradebook.load_set(out / "set.json")
        start = time.perf_counter()
        book = gradebook.grade_set(data, [Path(tmp) / "subs"], Bank.open())
        gradebook.summarise(book)
        for student in book.students:
            gradebook.feedback_markdown(student)
        graded = time.perf_counter() - start
    return generated, graded, count * len(templates), answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--templates", nargs="+", default=DEFAULT)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    from backprop_tutor.bank.folders import Bank

    bank = Bank.open()
    templates = [bank.load(t) for t in args.templates]
    measure(templates, 5, args.jobs)  # warm the caches both runs share
    small = measure(templates, 40, args.jobs)
    large = measure(templates, 400, args.jobs)
    per_variant = (large[0] - small[0]) / (large[2] - small[2]) * 1000
    per_answer = (large[1] - small[1]) / (large[3] - small[3]) * 1000
    print(f"templates: {', '.join(args.templates)}; jobs {args.jobs}")
    print(f"generate: 40 students {small[0]:.2f} s, 400 students {large[0]:.2f} s -> "
          f"{per_variant:.2f} ms per problem variant (target <= 20)")
    print(f"grade:    {small[3]} answers {small[1]:.2f} s, {large[3]} answers {large[1]:.2f} s -> "
          f"{per_answer:.2f} ms per answer graded (target <= 10)")


if __name__ == "__main__":
    main()
