"""Solutions as the Solution JSON of docs/formats.md: numbers as numbers, exact forms
as SymPy strings beside them (null where the exact form is too long to be useful)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, of_example, q
from backprop_tutor.engine.rules import conv_layers, examples, own_parameters, standard_rule
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.steps import Step

EXACT_CHARS = 1000


def exact_string(value: sp.Expr | None) -> str | None:
    if value is None:
        return None
    text = sp.sstr(tidy(value))
    return text if len(text) <= EXACT_CHARS else None


def tidy(expr: sp.Expr) -> sp.Expr:
    """Fold the arithmetic of an unevaluated exact form (`-1*1/4` → `-1/4`) for printing.

    Sums, products and powers are rebuilt with SymPy's evaluation; function calls are left
    unevaluated, since evaluating exp/erf of a nested form is what the engine avoids."""
    if not expr.args or expr.is_Atom:
        return expr
    args = [tidy(a) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)):
        return expr.func(*args)
    return expr.func(*args, evaluate=False)


def _vector(values) -> list:
    return [num.json_number(v) for v in values]


def _matrix(rows) -> list:
    return [_vector(r) for r in rows]


def _exact_vector(values) -> list:
    return [exact_string(v) for v in values]


def _owning(sol: NetworkSolution) -> list[int]:
    """The layers with weights and biases of their own: a recurrent cell's later steps share step
    1's, whose gradient sums over the steps (engine/rules.py), and have none to list."""
    return [l for l in range(1, sol.depth + 1) if own_parameters(sol.network, l)]


def network_parts(sol: NetworkSolution) -> list[dict[str, str]]:
    """The questions a network problem asks, with keys as a learner would type them."""
    n, L = sol.numeric, sol.depth
    parts = [{"id": "loss", "prompt": "the loss L", "answer": num.plain(n.loss), "skill": "forward_pass"}]
    for e, each in zip(examples(sol.network), n.examples or (n,)):
        name, whose = (f"e{e}.", f" of example {e}") if n.examples else ("", "")
        for l in range(L, 0, -1):
            parts.append({"id": f"{name}delta{l}", "prompt": f"δ⁽{l}⁾ = ∂L/∂z⁽{l}⁾{whose} (a vector)",
                          "answer": num.typed(each.delta[l]),
                          "skill": standard_rule(sol.network, of_example(q(Kind.DELTA, l), e if n.examples else None)).name})
    for l in _owning(sol):
        parts.append({"id": f"W{l}", "prompt": f"∂L/∂W⁽{l}⁾ (a matrix, rows j, columns k)",
                      "answer": num.typed(n.grad_W[l]), "skill": "weight_gradient"})
        parts.append({"id": f"b{l}", "prompt": f"∂L/∂b⁽{l}⁾ (a vector)",
                      "answer": num.typed(n.grad_b[l]), "skill": "bias_gradient"})
    parts.append({"id": "loss_after", "prompt": "the loss after one step of gradient descent",
                  "answer": num.plain(n.loss_after), "skill": "update"})
    return parts


def network_json(sol: NetworkSolution, steps: tuple[Step, ...]) -> dict[str, Any]:
    n, e, L = sol.numeric, sol.exact, sol.depth
    layers = _owning(sol)
    exact: dict[str, Any] = {
        "loss": exact_string(e.loss),
        "gradients": {},
        "loss_after": exact_string(e.loss_after),
    }
    for l in layers:
        exact["gradients"][f"W{l}"] = [_exact_vector(r) for r in e.grad_W[l]]
        exact["gradients"][f"b{l}"] = _exact_vector(e.grad_b[l])
    if not e.complete or _has_null(exact):
        exact["note"] = (f"exact forms longer than {EXACT_CHARS} characters (or past the exact pass's size limit) "
                         "are null; the decimals are exact to the digits shown")
    data = {
        "network": sol.network.to_json(),
        **_forward_backward(n, L, gradients=False),
        "gradients": {k: v for l in layers for k, v in ((f"W{l}", _matrix(n.grad_W[l])), (f"b{l}", _vector(n.grad_b[l])))},
        "updated": {k: v for l in layers for k, v in ((f"W{l}", _matrix(n.W_new[l])), (f"b{l}", _vector(n.b_new[l])))},
        "loss_after": num.json_number(n.loss_after),
        "exact": exact,
        "parts": network_parts(sol),
        "steps": [s.to_json() for s in steps],
    }
    _conv_layers_json(sol, data)
    if n.examples:  # a mini-batch: each example's passes; loss, gradients and the update are the batch's
        for key in ("activations", "preactivations", "deltas"):
            del data[key]
        data = {"network": data.pop("network"), "examples": [
            {"input": _vector(x), "target": _vector(t), **_forward_backward(each, L, gradients=True)}
            for (x, t), each in zip(sol.network.examples, n.examples)], **data}
    return data


def _forward_backward(n, L: int, gradients: bool) -> dict[str, Any]:
    """One pass's activations, preactivations, loss and deltas (and gradients: an example's own)."""
    layers = range(1, L + 1)
    out = {
        "activations": {f"a{l}": _vector(n.a[l]) for l in range(L + 1)},
        "preactivations": {f"z{l}": _vector(n.z[l]) for l in layers},
        "loss": num.json_number(n.loss),
        "deltas": {f"delta{l}": _vector(n.delta[l]) for l in layers},
    }
    if gradients:
        out["gradients"] = {k: v for l in layers
                            for k, v in ((f"W{l}", _matrix(n.grad_W[l])), (f"b{l}", _vector(n.grad_b[l])))}
    return out


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def expression_json(sol, steps: tuple[Step, ...]) -> dict[str, Any]:
    """`tutor solve --expression`: value, gradient and the graph replace the network keys."""
    return {
        "expression": sol.expression,
        "interpreted_as": sol.echo,
        "at": {name: num.json_number(v) for name, v in sol.at.items()},
        "value": num.json_number(sol.value),
        "gradient": {name: num.json_number(g) for name, g in sol.gradient.items()},
        "nodes": [
            {"id": n.id, "op": n.op, "label": n.label, "inputs": list(n.inputs), "value": num.json_number(n.value),
             "local_derivatives": {i: num.json_number(d) for i, d in n.local}, "grad": num.json_number(n.grad)}
            for n in sol.nodes
        ],
        "exact": {"value": exact_string(sol.value), "gradient": {name: exact_string(g) for name, g in sol.gradient.items()}},
        "parts": [
            {"id": f"grad_{name}", "prompt": f"∂f/∂{name}", "answer": num.plain(g), "skill": "chain_rule"}
            for name, g in sol.gradient.items()
        ],
        "steps": [s.to_json() for s in steps],
    }


def activation_json(sol, steps: tuple[Step, ...]) -> dict[str, Any]:
    return {
        "activation": sol.name,
        "point": num.json_number(sol.point),
        "value": num.json_number(sol.value),
        "derivative": sp.sstr(sol.derivative),
        "derivative_at": num.json_number(sol.slope),
        "exact": {"value": exact_string(sol.value), "derivative_at": exact_string(sol.slope)},
        "parts": [],
        "steps": [s.to_json() for s in steps],
    }


def _conv_layers_json(sol: NetworkSolution, data: dict[str, Any]) -> None:
    """A conv1d layer's gradient and update are its kernel's, K{l}, beside its one shared bias b{l}."""


    for l in conv_layers(sol.network):
        for key, kind in (("gradients", Kind.KERNEL_GRADIENT), ("updated", Kind.KERNEL_NEW)):
            del data[key][f"W{l}"]
            data[key][f"K{l}"] = _vector(sol.value(q(kind, l)))
        del data["exact"]["gradients"][f"W{l}"]
        data["parts"] = [part for part in data["parts"] if part["id"] != f"W{l}"]
