"""`tutor why --what-if`: the why lesson's network run again under changed rules, beside the real
descent, so each claim of the lesson is seen failing when its premise is taken away.

- drop f′: the engine's activation_slope rule replaced by 1 (the slip forgot_activation_slope,
  engine/slips.py), so the gradient and every step are the engine's own under that rule;
- a saturated unit: w moved so that |z| = 6, where f′ ≈ 0 and descent stalls;
- too large and too small a learning rate, on the output weight w⁽²⁾, where L is a parabola of
  curvature L″ = (a⁽¹⁾)²: η = 3/L″ overshoots the bottom further at every step (the error is
  multiplied by 1 − ηL″ = −2), η / 20 crawls. On w⁽¹⁾ the lesson's L often has no bottom within
  reach, and no η overshoots what is not there;
- backprop against nudging every weight: forward passes counted, and timed, on a larger
  random network (2-16-16-1, floats).

Every descent moves the lesson's weight w = w⁽¹⁾₀₀ alone, as the lesson does, for STEPS steps,
with 50-digit numbers. Everything is fixed by the seed but the measured times.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine.arithmetic import FLOATS, PRECISE
from backprop_tutor.engine.evaluation import STANDARD, Evaluation, RuleBook, given_value
from backprop_tutor.engine.network import Network, network_from_dict
from backprop_tutor.engine.numbers import json_number
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.rules import gradient_of, parameters
from backprop_tutor.engine.slips import BY_NAME as SLIPS
from backprop_tutor.errors import TutorError
from backprop_tutor.learner.why import DEFAULT_ACTIVATION, Lesson, lesson, with_weight

STEPS = 12
RATE_FACTOR = 20  # η / 20
OVERSHOOT = 3  # η = 3/L″: past 2/L″ every step lands further from the bottom than it started
SATURATED_Z = 6  # |z⁽¹⁾| of the saturated unit
LARGER = (2, 16, 16, 1)  # the network on which nudging and backprop are timed
NUDGE_H = 1e-5  # central differences in floats: error ~h², rounding ~1e-16/h
CANNOT = ("identity", "step")  # identity has no f′ to drop or saturate; step does not learn at all

W = q(Kind.WEIGHT, 1, 0, 0)
W2 = q(Kind.WEIGHT, 2, 0, 0)
LOSS = q(Kind.LOSS)
SLOPE = q(Kind.SLOPE, 1, 0)
DROP_SLOPE = SLIPS["forgot_activation_slope"].rules((1,), base=STANDARD)


@dataclass(frozen=True)
class Run:
    """One descent on w: the weights, gradients and losses at the start and after each step."""

    label: str
    learning_rate: sp.Rational
    weights: tuple[sp.Float, ...]
    gradients: tuple[sp.Float, ...]
    losses: tuple[sp.Float, ...]
    slope: sp.Float  # f′(z⁽¹⁾) at the start
    z: sp.Float  # z⁽¹⁾ at the start

    @property
    def change(self) -> sp.Float:
        """L at the end minus L at the start: negative when the loss fell."""
        return self.losses[-1] - self.losses[0]

    @property
    def rises(self) -> bool:
        """The loss went up at some step."""
        return any(b > a for a, b in zip(self.losses, self.losses[1:]))

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "learning_rate": json_number(self.learning_rate), "z": json_number(self.z),
                "slope": json_number(self.slope), "weights": [json_number(w) for w in self.weights],
                "gradients": [json_number(g) for g in self.gradients], "losses": [json_number(v) for v in self.losses]}


class Experiment(str, Enum):
    """The descents' experiments; the value is the JSON name."""

    DROP_SLOPE = "drop_slope"
    SATURATED = "saturated"
    LEARNING_RATE = "learning_rate"


@dataclass(frozen=True)
class Descents:
    """An experiment on the lesson's network: the real descent, then the changed one(s)."""

    name: Experiment
    real: Run
    changed: tuple[Run, ...]
    true_gradient: sp.Float | None = None  # drop_slope: the engine's ∂L/∂w with f′, at the start
    dropped_gradient: sp.Float | None = None  # … and without it
    curvature: sp.Float | None = None  # learning_rate: L″ in w⁽²⁾, (a⁽¹⁾)²

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name.value, "runs": [run.to_json() for run in (self.real, *self.changed)]}
        if self.true_gradient is not None:
            out["true_gradient"] = json_number(self.true_gradient)
            out["dropped_gradient"] = json_number(self.dropped_gradient)
        if self.curvature is not None:
            out["weight_name"] = "W2[0][0]"
            out["curvature"] = json_number(self.curvature)
        return out


@dataclass(frozen=True)
class Costs:
    """Backprop against nudging each parameter, on a larger network."""

    layers: tuple[int, ...]
    parameters: int  # P
    nudge_passes: int  # forward passes for central differences: 2P
    backprop_forward: int  # 1
    backprop_backward: int  # 1
    largest_gap: float  # max |nudged − backprop| / max(1, |backprop|) over the parameters
    nudge_seconds: float | None  # measured on this machine (None: not timed)
    backprop_seconds: float | None

    name = "cost"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "layers": list(self.layers), "parameters": self.parameters,
                "nudge_forward_passes": self.nudge_passes, "backprop_forward_passes": self.backprop_forward,
                "backprop_backward_passes": self.backprop_backward, "largest_gap": self.largest_gap,
                "nudge_seconds": self.nudge_seconds, "backprop_seconds": self.backprop_seconds}


@dataclass(frozen=True)
class WhatIf:
    lesson: Lesson
    experiments: tuple[Descents | Costs, ...]

    def to_json(self) -> dict[str, Any]:
        return {"activation": self.lesson.activation, "seed": self.lesson.seed, "steps": STEPS,
                "network": self.lesson.network.to_json(), "weight_name": "W1[0][0]",
                "experiments": [e.to_json() for e in self.experiments]}


def check_activation(activation: str) -> None:
    """Refuse an activation the experiments cannot be run on (CANNOT), with the ones they can."""
    if activation in CANNOT:
        raise TutorError(f"--what-if: {activation} has no slope to drop or saturate; use one of "
                         f"{', '.join(a for a in activations.ELEMENTWISE if a not in CANNOT)}")


def what_if(activation: str = DEFAULT_ACTIVATION, seed: int = 0, timed: bool = True) -> WhatIf:
    check_activation(activation)
    base = lesson(activation, seed)
    net = base.network
    real = descend("real", net)
    dropped = descend("drop f′", net, DROP_SLOPE)
    experiments = (
        Descents(Experiment.DROP_SLOPE, real, (dropped,), real.gradients[0], dropped.gradients[0]),
        Descents(Experiment.SATURATED, real, (descend("saturated", saturated(net)),)),
        learning_rates(net),
        costs(seed, timed),
    )
    return WhatIf(base, experiments)


def learning_rates(network: Network) -> Descents:
    """Descents on w⁽²⁾ with η, with η = 3/L″ and with η / 20. L″ = (a⁽¹⁾)², exactly: the output
    is w⁽²⁾a⁽¹⁾ + b⁽²⁾ and L = ½(t − o)², a parabola in w⁽²⁾ whatever the hidden unit does."""
    a = Evaluation(network, PRECISE).values(q(Kind.A, 1, 0), finish=True)
    curvature = a * a
    eta = network.learning_rate
    large = OVERSHOOT / curvature if curvature else eta * RATE_FACTOR
    real, *changed = (descend(label, network, rate=rate, weight=W2)
                      for label, rate in (("real", eta), ("η = 3/L″", large), (f"η / {RATE_FACTOR}", eta / RATE_FACTOR)))
    return Descents(Experiment.LEARNING_RATE, real, tuple(changed), curvature=curvature)


def descend(label: str, network: Network, rules: RuleBook = STANDARD, rate: sp.Rational | None = None,
            weight=W) -> Run:
    """STEPS steps of w ← w − η·∂L/∂w on `weight` (w⁽¹⁾₀₀ or w⁽²⁾₀₀), the gradient and the update
    computed by `rules`."""
    if rate is not None:
        network = replace(network, learning_rate=rate)
    # f′(z) as it is, by the standard rules, even where `rules` drop it
    z, slope = Evaluation(network, PRECISE).values((q(Kind.Z, 1, 0), SLOPE), finish=True)
    weights, gradients, losses = [], [], []
    current = network
    for n in range(STEPS + 1):
        evaluation = Evaluation(current, PRECISE, rules)
        w, grad, loss = evaluation.values((weight, gradient_of(weight), LOSS), finish=True)
        weights.append(w)
        gradients.append(grad)
        losses.append(loss)
        if n < STEPS:
            current = _with(network, weight, evaluation.values(q(Kind.WEIGHT_NEW, weight.layer, *weight.index), finish=True))
    return Run(label, network.learning_rate, tuple(weights), tuple(gradients), tuple(losses), slope, z)


def _with(network: Network, weight, value: sp.Expr) -> Network:
    """The network with one weight of a layer (W1[0][0] or W2[0][0]) replaced."""
    layer, (row, column) = weight.layer, weight.index
    if layer == 1:
        return with_weight(network, value)
    old = network.layers[layer - 1]
    weights = tuple(tuple(value if (i, j) == (row, column) else v for j, v in enumerate(r))
                    for i, r in enumerate(old.weights))
    layers = list(network.layers)
    layers[layer - 1] = replace(old, weights=weights)
    return replace(network, layers=tuple(layers))


def saturated(network: Network) -> Network:
    """The network with w chosen so that z⁽¹⁾ = ±SATURATED_Z: the side where f′ is smaller, and
    of equal slopes (tanh, sigmoid) the side with the larger loss, so there is something to learn."""
    first = network.layers[0]
    x, b = network.input[0], first.bias[0]

    def key(sign: int):
        moved = with_weight(network, (sign * SATURATED_Z - b) / x)
        slope, loss = Evaluation(moved, PRECISE).values((SLOPE, LOSS), finish=True)
        return abs(slope), -loss, moved

    return min((key(1), key(-1)), key=lambda k: k[:2])[2]


# --- backprop against nudging ----------------------------------------------------------------------


def larger_network(seed: int, layers: tuple[int, ...] = LARGER) -> Network:
    """A random network of tanh layers under an identity output, weights in [−1, 1]."""
    rng = random.Random(f"what-if:{seed}")

    def draw() -> str:
        return f"{rng.randint(-100, 100) / 100:g}"

    shapes = list(zip(layers, layers[1:]))
    return network_from_dict({
        "name": "what if: nudging against backprop",
        "input": [draw() for _ in range(layers[0])],
        "target": [draw() for _ in range(layers[-1])],
        "layers": [{"activation": "identity" if i == len(shapes) - 1 else "tanh",
                    "weights": [[draw() for _ in range(n_in)] for _ in range(n_out)],
                    "bias": [draw() for _ in range(n_out)]} for i, (n_in, n_out) in enumerate(shapes)],
        "loss": "half_sse",
        "learning_rate": "0.1",
    }, "the what-if network")


def costs(seed: int, timed: bool = True, layers: tuple[int, ...] = LARGER) -> Costs:
    """Every ∂L/∂θ twice, in floats through the engine's rules: by nudging each parameter θ by
    ±h (two forward passes each, a fresh evaluation every time) and by one backprop."""
    network = larger_network(seed, layers)
    params = parameters(network)
    clock = time.perf_counter
    began = clock()
    passes = 0
    nudged = []
    for p in params:
        losses = []
        for sign in (1, -1):
            evaluation = Evaluation(network, FLOATS, overrides={p: float(given_value(network, p)) + sign * NUDGE_H})
            losses.append(evaluation.value(LOSS))
            passes += 1
        nudged.append((losses[0] - losses[1]) / (2 * NUDGE_H))
    nudge_time = clock() - began
    began = clock()
    backprop = Evaluation(network, FLOATS).values(tuple(gradient_of(p) for p in params))
    backprop_time = clock() - began
    gap = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(nudged, backprop))
    return Costs(tuple(layers), len(params), passes, 1, 1, gap, nudge_time if timed else None,
                 backprop_time if timed else None)

