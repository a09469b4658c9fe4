"""What a learner and an instructor read is what was written: numbers in YAML read as numbers
(`1e-3` too), a template shown as its file, text from files never read as rich markup, and
piped or saved output plain, with prose wrapped and equations whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args, env=None, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False)


# --- YAML numbers: one loader, YAML 1.2 floats ---------------------------------------------------


def readme_template() -> str:
    """The template example of the README's "Writing a template", exactly as printed there."""
    section = README.read_text(encoding="utf-8").split("### Writing a template", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_template_example_is_a_valid_template(tmp_path):
    source = readme_template()
    assert "tolerance: {relative: 1e-3}" in source
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "readme_example.yaml").write_text(source, encoding="utf-8")
    result = run("bank", "validate", folder / "readme_example.yaml", "--seeds", 2)
    assert result.exit_code == 0, result.output
    from backprop_tutor.bank.template import load_template

    (part,) = load_template(folder / "readme_example.yaml").parts
    assert part.tolerance == ("relative", 0.001)


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("1E5", 100000.0), (".5e2", 50.0), ("-2e+3", -2000.0),
                                         ("+1.5e-1", 0.15), ("1.", 1.0), (".5", 0.5)])
def test_exponents_read_as_numbers(text, value):
    from backprop_tutor.engine import yamlio

    assert yamlio.load(f"x: {text}") == {"x": value}
    assert yamlio.load(f"x: '{text}'") == {"x": text}  # quoted stays text


@pytest.mark.parametrize("text, value", [("12", 12), ("0x1f", 31), ("1_000", 1000), ("1.2.3", "1.2.3"), ("1e", "1e"),
                                         ("e5", "e5"), ("yes", True), ("~", None)])
def test_everything_else_reads_as_safe_load_reads_it(text, value):
    from backprop_tutor.engine import yamlio

    assert yamlio.load(f"x: {text}") == yaml.safe_load(f"x: {text}")
    assert yamlio.load(f"x: {text}") == {"x": value}


def test_libyaml_and_the_python_parser_read_every_shipped_file_alike():
    """yamlio parses with libyaml when PyYAML has it and falls back to the Python parser for its
    error messages: both must give the same data."""
    from backprop_tutor.engine import yamlio

    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "problem_bank").glob("*.yaml")) + sorted((root / "examples").glob("*.yaml"))
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yamlio._FastLoader) == yaml.load(text, Loader=yamlio.ProjectLoader), path


def test_yamlio_builds_no_python_objects():
    from backprop_tutor.engine import yamlio

    with pytest.raises(yamlio.YAMLError):
        yamlio.load("!!python/object/apply:os.system ['true']")


def test_a_network_file_with_exponents_is_the_same_network(write_network, example):
    plain = run("solve", "--network", write_network(example, "plain.yaml"), "--format", "json")
    source = write_network(example, "exp.yaml").read_text(encoding="utf-8")
    source = source.replace("0.05", "5e-2").replace("learning_rate: 0.5", "learning_rate: 5E-1")
    assert "5e-2" in source and "5E-1" in source
    exponents = run("solve", "--network", write_network(source, "exp.yaml"), "--format", "json")
    assert exponents.exit_code == 0, exponents.output
    assert exponents.stdout == plain.stdout


def test_an_answer_file_with_an_exponent_is_graded_as_that_number(tmp_path):
    from backprop_tutor.homework.gradebook import read_submission

    path = tmp_path / "s01.yaml"
    path.write_text('"1.a": 1e-3\n"1.b": 2.5E2\n"1.c": "1e-3"\n', encoding="utf-8")
    assert read_submission(path) == {"1.a": 0.001, "1.b": 250.0, "1.c": "1e-3"}


# --- tutor bank show: the file as it is ----------------------------------------------------------


def shipped_templates() -> dict[str, Path]:
    from backprop_tutor.bank.folders import Bank

    return Bank.open().paths()


@pytest.mark.parametrize("columns", ["20", "200"])
def test_bank_show_piped_is_the_file_byte_for_byte(columns):
    for template_id, path in shipped_templates().items():
        result = run("bank", "show", template_id, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == path.read_bytes(), template_id
        assert yaml.safe_load(result.stdout) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_bank_show_in_a_narrow_terminal_keeps_every_line_of_the_file_whole():
    templates = shipped_templates()
    widest = max(templates, key=lambda t: max(map(len, templates[t].read_text(encoding="utf-8").splitlines())))
    source = templates[widest].read_bytes()
    assert max(map(len, source.decode().splitlines())) > 40  # so a 40-column terminal would cut it
    result = run("bank", "show", widest, "--seed", 1, env={"COLUMNS": "40", "FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert source in result.stdout_bytes
    assert "A sample problem" in result.stdout  # a person at a terminal still sees one


# --- piped and --out text: plain, prose wrapped, equations whole ---------------------------------

TEMPLATES = sorted(shipped_templates())
OPERATORS = set("=+−-·×/→←≈<>≤≥")


def _may_break(before: str, after: str) -> bool:
    """The spec of a line break in prose, restated for the test: between two words of letters,
    or after a , ; : that closes no bracket left open (a list of formulas, or prose before one)."""
    word = re.compile(r"[(\[\"']*[^\W\d_]{2,}(?:[-'’][^\W\d_]+)*[)\]\"'.,;:!?]*")
    if word.fullmatch(before.split(" ")[-1]) and word.fullmatch(after.split(" ")[0]):
        return True
    balance = sum(before.count(c) for c in "([{") - sum(before.count(c) for c in ")]}")
    return before[-1:] in ",;:" and balance <= 0 and after[:1] not in OPERATORS


def assert_plain(out: str, unwrapped: list[str], cells: list[str]) -> None:
    """`out` is plain text with no trailing whitespace; every line of `unwrapped` (the worked
    steps as written) is in it, the indented ones (formulas) each on one line, the others
    (prose) as consecutive lines broken only where _may_break allows (at a single space: two
    are spacing inside a formula), within 80 columns unless one piece could not be broken;
    every table cell is whole on one line."""
    assert "\x1b[" not in out
    lines = out.split("\n")
    assert all(line == line.rstrip() for line in lines), [line for line in lines if line != line.rstrip()][:3]
    stripped = [line.strip() for line in lines]
    for source in unwrapped:
        source = source.rstrip()
        if not source.strip():
            continue
        if source[0].isspace():
            assert source.strip() in stripped, source
            continue
        starts = [i for i, line in enumerate(stripped) if line and source.startswith(line)]
        assert starts, source
        for i in starts:
            group = [stripped[i]]
            while len(" ".join(group)) < len(source) and i + len(group) < len(stripped):
                group.append(stripped[i + len(group)])
            if " ".join(group) == source:
                break
        else:
            raise AssertionError(f"not found as wrapped prose: {source!r}")
        for k in range(1, len(group)):
            assert _may_break(" ".join(group[:k]), group[k]), (group[k - 1], group[k])
        for k, line in enumerate(group):  # past 80 columns only when nothing could be broken off
            if len(lines[i + k]) > 80:
                before = " ".join(group[:k] + [""])
                single = [m for m, c in enumerate(line) if c == " " and " " not in (line[m - 1], line[m + 1])]
                assert not any(_may_break(before + line[:m], line[m + 1:]) for m in single), line
    for cell in cells:
        assert any(cell in line for line in lines), cell


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_solve_piped_is_plain_text_with_whole_equations(template_id):
    import json

    data = json.loads(run("solve", template_id, "--seed", 1, "--format", "json").stdout)
    unwrapped = [line for step in data["steps"] for line in step["text"].split("\n")]
    cells = [p["prompt"] for p in data["parts"]] + [p["answer"] for p in data["parts"]]
    for columns in ("40", "200"):  # the same at any terminal width
        result = run("solve", template_id, "--seed", 1, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert_plain(result.stdout, unwrapped, cells)
        if columns == "40":
            narrow = result.stdout
    assert result.stdout == narrow


def test_solve_out_writes_the_piped_text(tmp_path):
    target = tmp_path / "solution.txt"
    result = run("solve", "relu_hidden_2_3_1", "--seed", 11, "--out", target)
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8") == run("solve", "relu_hidden_2_3_1", "--seed", 11).stdout


@pytest.mark.parametrize("expression, at", [
    ("tanh(w*x+b)*sigmoid(v*x) + max(x, y)*z", "w=0.5,x=1,b=0,v=2,y=-1,z=3"),
    ("softplus(a*x) / (1 + exp(-w*x*x*y*y*z)) - relu(b - x*y) * gelu(z)", "a=1.5,x=0.25,w=-2,y=3,z=0.5,b=1"),
])
def test_expression_solutions_piped_keep_every_equation_whole(expression, at, tmp_path):
    import json

    data = json.loads(run("solve", "-e", expression, "--at", at, "--format", "json").stdout)
    unwrapped = [line for step in data["steps"] for line in step["text"].split("\n")]
    piped = run("solve", "-e", expression, "--at", at)
    assert piped.exit_code == 0, piped.output
    assert_plain(piped.stdout, unwrapped, [node["label"] for node in data["nodes"]])
    run("solve", "-e", expression, "--at", at, "--out", tmp_path / "f.txt")
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == piped.stdout


# --- every command, piped: no spaces at the end of a line ------------------------------------------


def test_every_command_piped_ends_no_line_with_a_space(tmp_path):
    db = tmp_path / "progress.db"
    out = tmp_path / "hw"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns01,Ana Silva\n", encoding="utf-8")
    assert run("generate", "mlp_2_2_1", "--roster", roster, "--seed", 1, "--out", out).exit_code == 0
    (tmp_path / "s01.yaml").write_text("a2: 0.5\n", encoding="utf-8")
    outputs = {
        "practice": run("practice", "--template", "mlp_2_2_1", "--seed", 3, "--count", 1, "--db", db,
                        input="0.1\n0.2\nhint\nskip\nq\n"),
        "stats": run("stats", "--db", db),
        "why": run("why", "--seed", 2),
        "check": run("check", "mlp_2_2_1", "--seed", 3, "--part", "a2", "0,5"),
        "bank list": run("bank", "list"),
        "grade": run("grade", out / "set.json", tmp_path / "s01.yaml", "--out", tmp_path / "g.csv"),
    }
    for command, result in outputs.items():
        assert result.output.strip(), command
        ragged = [line for line in result.output.splitlines() if line != line.rstrip()]
        assert not ragged, (command, ragged[:3])


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_practice_piped_breaks_no_formula(template_id, tmp_path):
    """A piped practice transcript: the statement unboxed, its prose wrapped between words, so no
    line ends or starts inside a formula (at an =, a + or a −), and none is longer than 80 unless
    it is a formula or a table row kept whole."""
    result = run("practice", "--template", template_id, "--seed", 0, "--count", 1, "--db", tmp_path / "p.db",
                 input="quit\n", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "╭" not in result.output and any(template_id in line for line in lines)
    for before, after in zip(lines, lines[1:]):
        assert not re.search(r"[=+−·]$", before.rstrip()), (before, after)
        assert not re.match(r"\s*[=+·]\s", after), (before, after)
