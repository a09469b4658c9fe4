"""Activations and losses: SymPy's derivatives agree with the textbook display forms and with
50-digit central differences; the conventions at kinks hold."""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.activations import ELEMENTWISE, z

mp.mp.dps = 50
POINTS = [sp.Rational(-17, 10), sp.Rational(-3, 10), sp.Rational(1, 7), sp.Rational(9, 4)]


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_textbook_derivative_is_sympys(name):
    act = ELEMENTWISE[name]
    for point in POINTS:
        assert abs(sp.N(act.prime(point) - act.textbook_derivative.subs(z, point), 50)) < 1e-45


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_derivative_matches_central_difference(name):
    act = ELEMENTWISE[name]
    f = sp.lambdify(z, act.expr, "mpmath")
    h = mp.mpf("1e-20")
    for point in POINTS:
        x = mp.mpf(point.p) / point.q
        fd = (f(x + h) - f(x - h)) / (2 * h)
        assert abs(sp.N(act.prime(point), 50) - sp.Float(str(fd), 50)) < 1e-30


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_display_forms_exist(name):
    act = ELEMENTWISE[name]
    assert act.unicode and act.latex and act.derivative_unicode and act.derivative_latex


def test_conventions_at_kinks():
    zero = sp.Integer(0)
    assert ELEMENTWISE["relu"].prime(zero) == 0
    assert ELEMENTWISE["leaky_relu"].prime(zero) == sp.Rational(1, 100)
    assert ELEMENTWISE["step"](zero) == 1
    assert ELEMENTWISE["step"].derivative == 0
    assert ELEMENTWISE["elu"].prime(zero) == 1


def test_exact_values_stay_exact():
    assert ELEMENTWISE["sigmoid"](sp.Rational(27, 80)) == 1 / (1 + sp.exp(-sp.Rational(27, 80)))
    assert ELEMENTWISE["relu"](sp.Rational(-1, 3)) == 0


def test_the_rules_softmax_jacobian_is_sympys():
    """The output_delta rule writes ∂pⱼ/∂zₖ in p, as pⱼ([j = k] − pₖ); SymPy's derivative of
    the softmax is the independent check."""
    from backprop_tutor.engine.rules import softmax_jacobian_entry

    zs = sp.symbols("z0:3", real=True)
    p = activations.softmax(list(zs))
    values = {zs[0]: sp.Rational(1, 2), zs[1]: sp.Rational(-1, 3), zs[2]: sp.Rational(2)}
    p_at = [sp.N(v.subs(values), 40) for v in p]
    for j in range(3):
        for k in range(3):
            sympys = sp.N(sp.diff(p[j], zs[k]).subs(values), 40)
            assert abs(sympys - softmax_jacobian_entry(p_at, j, k)) < 1e-35


LOSS_VALUES = [  # o, t, expected value written out by hand
    ("half_sse", [0.75, 0.25], [1, 0], (0.25**2 + 0.25**2) / 2),
    ("sse", [0.75, 0.25], [1, 0], 0.25**2 + 0.25**2),
    ("mse", [0.75, 0.25], [1, 0], (0.25**2 + 0.25**2) / 2),
    ("bce", [0.75, 0.25], [1, 0], -(mp.log(0.75) + mp.log(0.75)) / 2),
    ("cross_entropy", [0.75, 0.25], [1, 0], -mp.log(0.75)),
]


@pytest.mark.parametrize("name,o,t,expected", LOSS_VALUES)
def test_loss_values_and_gradients(name, o, t, expected):
    loss = losses.LOSSES[name]
    o_ = [sp.Rational(str(v)) for v in o]
    t_ = [sp.Integer(v) for v in t]
    o_symbols, t_symbols = losses.symbols(2)

    def at(expr, outputs):
        return expr.xreplace({**dict(zip(o_symbols, outputs)), **dict(zip(t_symbols, t_))})

    assert float(at(loss.expr(2), o_)) == pytest.approx(float(expected), rel=1e-14)
    h = sp.Rational(1, 10**20)
    for j in range(2):
        up = list(o_)
        down = list(o_)
        up[j] += h
        down[j] -= h
        fd = (at(loss.expr(2), up) - at(loss.expr(2), down)) / (2 * h)
        assert abs(sp.N(at(loss.gradient(2)[j], o_) - fd, 50)) < 1e-30


def test_statements_name_the_constant_factor():
    assert "½" in losses.LOSSES["half_sse"].unicode and "1/n" in losses.LOSSES["mse"].unicode
    assert "no ½" in losses.LOSSES["sse"].factor_note
