"""`tutor solve --network`: every format, the JSON contract, and one exact message per bad input."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

from conftest import EXAMPLE

ANSI = re.compile(r"\x1b\[")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def example_file(write_network):
    return write_network(EXAMPLE)


def test_json_follows_the_contract(example_file):
    result = run("solve", "--network", str(example_file), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["network", "activations", "preactivations", "loss", "deltas", "gradients", "updated",
                          "loss_after", "exact", "parts", "steps"]
    assert data["network"]["layers"][0]["weights"] == [[0.15, 0.2], [0.25, 0.3]]
    assert set(data["activations"]) == {"a0", "a1", "a2"} and set(data["preactivations"]) == {"z1", "z2"}
    assert data["loss"] == pytest.approx(0.298371108760003, rel=1e-12)
    assert data["deltas"]["delta2"][1] == pytest.approx(-0.0380982365165562, rel=1e-12)
    assert data["gradients"]["W1"][0][0] == pytest.approx(0.000438567734474347, rel=1e-12)
    assert data["updated"]["W2"][0][0] == pytest.approx(0.358916479717885, rel=1e-12)
    assert data["loss_after"] < data["loss"]
    for key in ("W1", "b1", "W2", "b2"):  # same shapes as the parameters
        assert len(data["gradients"][key]) == len(data["updated"][key]) == 2
    exact = sp.parse_expr(data["exact"]["loss"])  # test-side parse of our own output, not user text
    assert float(exact) == pytest.approx(data["loss"], rel=1e-14)
    exact_grad = sp.parse_expr(data["exact"]["gradients"]["W1"][0][0])
    assert float(exact_grad) == pytest.approx(data["gradients"]["W1"][0][0], rel=1e-14)
    assert {p["id"] for p in data["parts"]} >= {"loss", "delta2", "delta1", "W1", "b1", "W2", "b2", "loss_after"}
    assert all(set(s) == {"title", "text", "latex"} for s in data["steps"])


def test_text_is_plain_when_piped(example_file):
    result = run("solve", "--network", str(example_file))
    assert result.exit_code == 0
    assert not ANSI.search(result.stdout)
    for expected in ("0.29837110876", "0.138498561629", "Worked solution",
                     "δ⁽²⁾₀ = 0.741365·0.186816 = 0.138499", "δ⁽²⁾₁ = (−0.217072)·0.17551 = −0.0380982",
                     "w⁽²⁾₁₀ = 0.5 − 0.5·(−0.0226025) = 0.511301", "L = 0.298371 → 0.280471"):
        assert expected in result.stdout, expected


def test_text_never_prints_doubled_or_negative_zero_signs(example_file, write_network):
    data = json.loads(json.dumps(EXAMPLE))
    data["layers"][1]["weights"] = [[-0.4, 0.45], [0.5, -0.55]]
    data["input"] = [-0.05, 0.1]
    for path in (example_file, write_network(data, "neg.yaml")):
        out = run("solve", "--network", str(path)).stdout
        assert not re.search(r"\+ -|\+ −|--|−−|-0\.0\b|−0\b(?!\.)", out)


def test_colour_in_a_terminal_and_none_with_no_color(example_file, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = run("solve", "--network", str(example_file)).stdout
    assert ANSI.search(coloured)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR")
    plain = run("solve", "--network", str(example_file)).stdout
    assert not ANSI.search(plain)


def test_markdown(example_file):
    out = run("solve", "--network", str(example_file), "--format", "markdown").stdout
    assert out.startswith("# two-two-two example")
    assert "| layer | unit | z | f | a = f(z) |" in out and "## Worked solution" in out


def test_latex_is_a_document(example_file):
    out = run("solve", "--network", str(example_file), "--format", "latex").stdout
    assert out.startswith(r"\documentclass") and out.rstrip().endswith(r"\end{document}")
    assert out.count(r"\begin{longtable}") == out.count(r"\end{longtable}") == 4
    assert r"\delta^{(2)}_{0} = 0.741365 \cdot 0.186816 = 0.138499" in out
    assert not any(ord(ch) > 127 for ch in out)  # pdflatex-safe


def test_out_writes_a_file(example_file, tmp_path):
    target = tmp_path / "solution.json"
    result = run("solve", "--network", str(example_file), "--format", "json", "--out", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["loss"] == pytest.approx(0.29837110876, rel=1e-10)


def test_json_network_file(write_network):
    path = write_network(EXAMPLE, "net.json")
    assert run("solve", "--network", str(path), "--format", "json").exit_code == 0


def _mutate(change):
    data = json.loads(json.dumps(EXAMPLE))
    change(data)
    return data


BAD_NETWORKS = [
    ("shape", _mutate(lambda d: d["layers"][1].__setitem__("weights", [[0.4, 0.45, 0.1], [0.5, 0.55, 0.1]])),
     "layers[1].weights: rows have 3 entries but layers[0] has 2 units; weights[j][k] goes from unit k below to unit j of this layer"),
    ("ragged", _mutate(lambda d: d["layers"][0].__setitem__("weights", [[0.15, 0.2], [0.25]])),
     "layers[0].weights: ragged rows (2, 1 entries): every row needs one entry per unit below"),
    ("activation", _mutate(lambda d: d["layers"][0].__setitem__("activation", "sigmod")),
     "layers[0].activation: unknown activation 'sigmod' (did you mean 'sigmoid'?); use one of identity, sigmoid, "
     "tanh, relu, leaky_relu, softplus, elu, silu, gelu, gelu_tanh, step, softmax"),
    ("loss", _mutate(lambda d: d.__setitem__("loss", "mae")),
     "loss: unknown loss 'mae' (did you mean 'mse'?); use one of half_sse, sse, mse, bce, cross_entropy"),
    ("softmax-hidden", _mutate(lambda d: d["layers"][0].__setitem__("activation", "softmax")),
     "layers[0].activation: softmax is allowed only on the output (last) layer"),
    ("ce-without-softmax", _mutate(lambda d: d.__setitem__("loss", "cross_entropy")),
     "loss: cross_entropy needs a softmax output layer, but the last layer is sigmoid; set its activation to "
     "softmax, or use bce for sigmoid outputs"),
    ("bce-target", _mutate(lambda d: d.update(loss="bce", target=[0.5, 1.5])),
     "target[1]: 1.5 is outside [0, 1]; bce needs targets that are probabilities"),
    ("not-a-number", _mutate(lambda d: d["layers"][0]["weights"][0].__setitem__(1, "abc")),
     "layers[0].weights[0][1]: expected a number (like 0.25 or '1/3'), found the text 'abc'"),
    ("missing-target", _mutate(lambda d: d.pop("target")), "target: missing; add `target: [0.01, 0.99]`"),
    ("missing-weights", _mutate(lambda d: d["layers"][0].pop("weights")),
     "layers[0].weights: missing; give one row per unit, each with 2 entries"),
    ("bias-length", _mutate(lambda d: d["layers"][0].__setitem__("bias", [0.1])),
     "layers[0].bias: has 1 entry but the layer has 2 units (rows of weights); give one bias per unit"),
    ("unknown-key", _mutate(lambda d: d.__setitem__("learning_rat", 0.1)),
     "learning_rat: unknown key (did you mean 'learning_rate'?); allowed keys: name, input, target, layers, loss, "
     "learning_rate, weight_decay, optimizer, examples"),
    ("rate", _mutate(lambda d: d.__setitem__("learning_rate", -1)),
     "learning_rate: must be positive (a step against the gradient), e.g. 0.5"),
    ("target-length", _mutate(lambda d: d.__setitem__("target", [0.5])),
     "target: has 1 entry but the output layer has 2 units; give one target per output"),
    ("boolean", _mutate(lambda d: d.__setitem__("input", [True, 0.1])), "input[0]: expected a number, found true"),
    ("huge", _mutate(lambda d: d.__setitem__("input", [1e300, 0.1])),
     "input[0]: 1e+300 is out of range; use numbers between −1000 and 1000"),
]


@pytest.mark.parametrize("name,data,message", BAD_NETWORKS, ids=[c[0] for c in BAD_NETWORKS])
def test_bad_network_gets_one_line(write_network, name, data, message):
    path = write_network(data, f"{name}.yaml")
    result = run("solve", "--network", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"
    assert "Traceback" not in result.output


BAD_FILES = [
    ("empty.yaml", "", "the file is empty: expected a mapping with keys input, target, layers, loss, learning_rate"),
    ("broken.yaml", "input: [0.1, 0.2\nlayers: {\n", "not valid YAML (line 2, column 7: expected ',' or ']', but got ':')"),
    ("list.yaml", "- 1\n- 2\n", "expected a mapping with keys input, target, layers, loss, learning_rate, found a list"),
    ("bad.json", '{"input": [1, 2],}', "not valid JSON (line 1, column 18: Expecting property name enclosed in double quotes)"),
    ("big.yaml", "#" * 10_000_000, "the file is 10.0 MB; a network file is at most 1 MB (is this the right file?)"),
]


@pytest.mark.parametrize("name,content,message", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_gets_one_line(write_network, name, content, message):
    path = write_network(content, name)
    result = run("solve", "--network", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "net.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    result = run("solve", "--network", str(binary))
    assert result.exit_code == 2 and result.stderr == f"Error: {binary}: not a text file (it is not UTF-8): expected YAML or JSON\n"
    result = run("solve", "--network", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and result.stderr == f"Error: {tmp_path / 'nope.yaml'}: no such file\n"


def test_solve_needs_exactly_one_source(example_file):
    for args in ([], ["--network", str(example_file), "--expression", "x"]):
        result = run("solve", *args)
        assert result.exit_code == 2
        assert result.stderr == "Error: give exactly one of TEMPLATE, --network FILE or --expression EXPR (see tutor solve --help)\n"
    result = run("solve", "--network", str(example_file), "--at", "x=1")
    assert result.exit_code == 2 and "--at goes with --expression" in result.stderr


def test_every_command_has_help_with_an_example():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0 and "Example" in result.stdout, name
    assert "Example" in run("--help").stdout


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("tutor, version ")
