"""The why lesson as data: a small network, one weight w, the loss L.

Nudge w by h and the ratio (L(w+h) − L(w))/h becomes ∂L/∂w as h shrinks (the engine's nudge
check, at 50 digits); then gradient descent on w, w ← w − η·∂L/∂w, each step's gradient by
backprop, and the loss falls. With the step activation the derivative is 0, the ratio is 0
and descent never moves: the other side of the same lesson.

The network is x → [f × 1] → [identity × 1] → L = ½(t − o)², f the chosen activation; the
weight is w⁽¹⁾₀₀, so the chain rule runs through f′: ∂L/∂w = (o − t)·w⁽²⁾·f′(z⁽¹⁾)·x, the
factors of `Lesson.factors`. The curve L(w) around w (`Lesson.curve`) is the engine's loss with
w replaced, for drawing it with the secants of the nudge table. Values are drawn with
random.Random(seed) until the lesson shows what it should (a derivative far from 0, a loss
that falls steadily; for step, z far enough from the jump that no nudge crosses it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine.entries import values
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import FD_STEPS, NetworkSolution, solve_network
from backprop_tutor.errors import TutorError
from backprop_tutor.engine.network import Layer, Network, network_from_dict
from backprop_tutor.engine.numbers import json_number
from backprop_tutor.engine import numbers as num
from backprop_tutor.worked.notation import prime, symbol
from backprop_tutor.worked.slopes import slope_chain

DESCENT_STEPS = 20
# Below this loss the descent has converged: more steps would only print ever smaller noise
# (3.3×10⁻⁴³), so the table stops at the first step that reaches it.
CONVERGED = sp.Float("1e-12")
LEARNING_RATE = sp.Rational(1, 2)
DEFAULT_ACTIVATION = "tanh"
MAX_DRAWS = 200
# The curve L(w) is drawn over w ± WINDOW: wide enough that the secant of the largest h
# (0.1) leaves the tangent visibly, narrow enough that the curve near w is not flattened.
WINDOW = sp.Rational(1, 2)
# A factor of ∂L/∂w below this in size is what makes the gradient small.
SMALL = sp.Rational(1, 10)
CHOICES = tuple(activations.ELEMENTWISE)  # softmax needs a layer of several units: not here


@dataclass(frozen=True)
class Nudge:
    h: sp.Rational
    loss: sp.Float  # L(w + h)
    ratio: sp.Float  # (L(w + h) − L(w))/h
    error: sp.Float  # |ratio − ∂L/∂w|


@dataclass(frozen=True)
class Factor:
    """One factor of the chain rule for ∂L/∂w: its symbol, its value, what it means and how it
    is computed (`working`, e.g. tanh′(z⁽¹⁾) = 1 − tanh(z⁽¹⁾)² = 1 − 0.76² = 0.42)."""
    symbol: str
    value: sp.Expr
    meaning: str
    working: str
    small_because: str  # why it is small, when it is the factor that makes ∂L/∂w small

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "value": json_number(self.value), "meaning": self.meaning,
                "working": self.working}


@dataclass(frozen=True)
class DescentStep:
    weight: sp.Expr
    gradient: sp.Float
    loss: sp.Float


@dataclass(frozen=True)
class Lesson:
    activation: str
    seed: int
    network: Network
    solution: NetworkSolution
    nudges: tuple[Nudge, ...]
    descent: tuple[DescentStep, ...]  # the start, then after each step: DESCENT_STEPS, or fewer once converged

    @property
    def weight(self) -> sp.Rational:
        return self.network.layers[0].weights[0][0]

    @property
    def derivative(self) -> sp.Float:
        return self.solution.numeric.grad_W[1][0][0]

    @property
    def loss(self) -> sp.Float:
        return self.solution.numeric.loss

    @property
    def z(self) -> sp.Expr:
        """z⁽¹⁾, exact where the pass knows it: −0.2·1.5 + 0.3 is 0, not the 50-digit pass's
        −6.7×10⁻⁵² (0.3 has no exact binary form)."""
        exact = self.solution.exact.z[1][0]
        return exact if exact is not None else self.solution.numeric.z[1][0]

    @property
    def slope(self) -> sp.Float:
        """f′(z⁽¹⁾), the activation's local derivative at the point."""
        return self.solution.numeric.slope[1][0]

    @property
    def converged(self) -> bool:
        """The descent stopped early: its last loss is below CONVERGED."""
        return self.descent[-1].loss < CONVERGED

    @property
    def learns(self) -> bool:
        return self.derivative != 0

    @property
    def factors(self) -> tuple[Factor, ...]:
        """∂L/∂w = (o − t)·w⁽²⁾·f′(z⁽¹⁾)·x, along the weight's own path x → z⁽¹⁾ → a⁽¹⁾ → o → L
        (the output unit is the identity, whose slope 1 is left out)."""
        net, n = self.network, self.solution.numeric
        o, t, v, x = n.a[2][0], net.target[0], net.layers[1].weights[0][0], net.input[0]
        f, z_label = self.activation, symbol("z", 1)
        f_prime = f"{prime(f)}({z_label})"
        if activations.ELEMENTWISE[f].kinked and self.z < 0 and f != "step":
            flat = f"the unit is switched off: z⁽¹⁾ = {num.pretty(self.z)} < 0"
        elif f == "step":
            flat = "step is flat on both sides of its jump"
        elif f in ("sigmoid", "tanh", "softplus"):
            flat = f"the unit is saturated: {f} is nearly flat at z⁽¹⁾ = {num.pretty(self.z)}"
        else:
            flat = f"{f} is nearly flat at z⁽¹⁾ = {num.pretty(self.z)}"
        return (
            Factor("o − t", n.dL_da[0], "how wrong the output is (∂L/∂o, for L = ½(t − o)²)",
                   f"o − t = {num.difference(o, t)} = {num.pretty(n.dL_da[0])}",
                   "the output is already close to the target"),
            Factor(symbol("w", 2), v, "how much the hidden unit matters to the output (∂o/∂a⁽¹⁾)",
                   f"{symbol('w', 2)} = {num.pretty(v)}", "the hidden unit barely reaches the output"),
            Factor(f_prime, self.slope, "how sensitive the unit is right now (∂a⁽¹⁾/∂z⁽¹⁾)",
                   f"{f_prime} = {slope_chain(f, z_label, self.z, self.slope)}", flat),
            Factor("x", x, "how much of the input this weight carries (∂z⁽¹⁾/∂w)", f"x = {num.pretty(x)}",
                   "the input this weight carries is small"),
        )

    @property
    def small_factor(self) -> Factor | None:
        """The factor smallest in size, when it is below SMALL: what makes ∂L/∂w small."""
        smallest = min(self.factors, key=lambda factor: abs(factor.value))
        return smallest if abs(smallest.value) < SMALL else None

    @property
    def window(self) -> tuple[sp.Rational, sp.Rational]:
        """The range of w the curve L(w) is drawn over."""
        return self.weight - WINDOW, self.weight + WINDOW

    def curve(self, points: int) -> tuple[tuple[sp.Rational, sp.Float], ...]:
        """L(w) at `points` evenly spaced w across the window, ends included: the engine's loss
        (50 digits) with w replaced, its forward pass alone run again (as a nudge is), not a
        whole solution per point."""
        low, high = self.window
        evaluation, weight = self.solution.evaluation, q(Kind.WEIGHT, 1, 0, 0)
        ws = [low + (high - low) * sp.Rational(k, points - 1) for k in range(points)]
        with evaluation.ops.context():  # w at the working precision, not mpmath's default 53 bits
            moved = [evaluation.ops.given(w) for w in ws]
        return tuple((w, values(evaluation.rerun({weight: m}), q(Kind.LOSS))) for w, m in zip(ws, moved))

    def to_json(self) -> dict[str, Any]:
        small = self.small_factor
        return {
            "activation": self.activation,
            "seed": self.seed,
            "network": self.network.to_json(),
            "weight_name": "W1[0][0]",
            "weight": json_number(self.weight),
            "loss": json_number(self.loss),
            "derivative": json_number(self.derivative),
            "factors": [factor.to_json() for factor in self.factors],
            "small_factor": small.symbol if small is not None else None,
            "nudges": [{"h": json_number(n.h), "loss": json_number(n.loss), "ratio": json_number(n.ratio),
                        "error": json_number(n.error)} for n in self.nudges],
            "learning_rate": json_number(self.network.learning_rate),
            "weights": [json_number(d.weight) for d in self.descent],
            "descent": [json_number(d.loss) for d in self.descent],
        }


def lesson(activation: str = DEFAULT_ACTIVATION, seed: int = 0) -> Lesson:
    if activation not in activations.ELEMENTWISE:
        raise TutorError(f"--activation: unknown activation {activation!r}; use one of {', '.join(CHOICES)}")
    rng = random.Random(f"why:{activation}:{seed}")
    for _ in range(MAX_DRAWS):
        network = _draw(activation, rng)
        solution = solve_network(network)
        # The cheap checks first: most rejected draws never need their 20 descent steps.
        if not _worth_descending(activation, network, solution):
            continue
        candidate = _build(activation, seed, network, solution)
        if activation == "step" or _falls(candidate.descent):
            return candidate
    raise TutorError(f"no network for --activation {activation} --seed {seed} shows the lesson; try another seed")


def _draw(activation: str, rng: random.Random) -> Network:
    def tenth(low: int, high: int, nonzero: bool = True) -> str:
        while True:
            value = rng.randint(low, high)
            if value or not nonzero:
                return f"{value / 10:g}"

    return network_from_dict({
        "name": f"why: {activation}",
        "input": [tenth(-15, 15)],
        "target": [tenth(-10, 10, nonzero=False)],
        "layers": [{"activation": activation, "weights": [[tenth(-10, 10)]], "bias": [tenth(-5, 5, nonzero=False)]},
                   {"activation": "identity", "weights": [[tenth(-20, 20)]], "bias": [tenth(-5, 5, nonzero=False)]}],
        "loss": "half_sse",
        "learning_rate": str(LEARNING_RATE),
    }, "the why lesson")


def _build(activation: str, seed: int, network: Network, solution: NetworkSolution) -> Lesson:
    check = next(c for c in solution.nudges if c.parameter == q(Kind.WEIGHT, 1, 0, 0))
    nudges = tuple(Nudge(h, moved, ratio, abs(gap)) for h, moved, ratio, gap in check.rows)
    return Lesson(activation, seed, network, solution, nudges, _descend(network, solution))


def with_weight(network: Network, w: sp.Expr) -> Network:
    """The network with w⁽¹⁾₀₀ replaced (a 50-digit Float after a descent step)."""
    first = network.layers[0]
    layer = Layer(first.activation, ((w,) + first.weights[0][1:],) + first.weights[1:], first.bias)
    return replace(network, layers=(layer,) + network.layers[1:])


def _descend(network: Network, start: NetworkSolution) -> tuple[DescentStep, ...]:
    w: sp.Expr = network.layers[0].weights[0][0]
    solution = start
    steps = []
    for n in range(DESCENT_STEPS + 1):
        gradient = solution.numeric.grad_W[1][0][0]
        steps.append(DescentStep(w, gradient, solution.numeric.loss))
        if n == DESCENT_STEPS or solution.numeric.loss < CONVERGED:
            break
        w = solution.numeric.W_new[1][0][0]  # w − η·∂L/∂w, as the engine's update computed it
        solution = solve_network(with_weight(network, w))
    return tuple(steps)


def _worth_descending(activation: str, network: Network, solution: NetworkSolution) -> bool:
    """Every draw must have a loss worth lowering; then, where f has a kink or a jump, no nudge
    may cross it (|z| > |x|·h for the largest h); and but for step, a clear derivative."""
    numeric = solution.numeric
    if numeric.loss < sp.Rational(1, 20):
        return False
    f = activations.ELEMENTWISE[activation]
    if f.kinked:
        if abs(numeric.z[1][0]) < abs(network.input[0]) * sp.Rational(FD_STEPS[0]) + sp.Rational(1, 10):
            return False
    return activation == "step" or abs(numeric.grad_W[1][0][0]) >= sp.Rational(1, 20)


def _falls(descent: tuple[DescentStep, ...]) -> bool:
    """A descent whose loss falls at every step and by at least a third overall."""
    losses = [d.loss for d in descent]
    return all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < losses[0] * sp.Rational(2, 3)