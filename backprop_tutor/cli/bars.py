"""Bars of block characters for a column of losses or gradients (tutor why, its what-if and
vanishing lessons): eighths of a character wide, on a linear scale or, once the values span more
than 100x, a log scale in which the smallest still gets a sliver."""

from __future__ import annotations

import math

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bars(series: list[list[float]], width: int, may_log: bool = True) -> tuple[list[list[str]], bool]:
    """Bars for several loss series on one shared scale; a log scale once the values span more
    than 100× (then the smallest still gets a sliver) unless not `may_log`. Returns the bars and
    whether the scale is log."""
    values = [v for s in series for v in s]
    largest = max(values)
    if largest <= 0:
        return [["" for _ in s] for s in series], False
    smallest = min((v for v in values if v > 0), default=largest)
    log = may_log and largest / smallest > 100
    floor = math.log10(smallest) - 1 if log else 0.0

    def fraction(v: float) -> float:
        if not log:
            return v / largest
        return (math.log10(v) - floor) / (math.log10(largest) - floor) if v > 0 else 0.0

    def bar(v: float) -> str:
        eighths = int(round(fraction(v) * width * 8))
        return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")

    return [[bar(v) for v in s] for s in series], log
