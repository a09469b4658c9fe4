"""HTML pages (issue 16, point 3): `tutor solve --format html` and `tutor generate --html` write
self-contained pages, the formulas as MathML, the tables as tables, the steps collapsible.
What a browser makes of them is tests/test_html_browser.py; here, their structure and text."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.report import problem_report
from backprop_tutor.cli.app import cli
from backprop_tutor.worked.html import render_html
from backprop_tutor.worked.latex_html import latex_blocks, latex_inline
from backprop_tutor.worked.mathml import mathml
from backprop_tutor.worked.texescape import escape as tex_escape

from conftest import EXAMPLE

HOSTILE = '<script>alert("x")</script> & \'q\' <b>bold</b>'
MATH = re.compile(r"<math\b.*?</math>", re.S)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


class Page(HTMLParser):
    """A page read as a browser's parser reads it: its elements, and its visible text (the text
    of every element but <style>, <title> and <head>), each table's rows."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._skip = 0
        self._cell: list[str] | None = None
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if self._cell is not None:
                self._cell.append(data)

    def visible(self) -> str:
        return "".join(self.text)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


def check_page(source: str) -> Page:
    """What every page must be: a whole document, self-contained, its MathML well-formed, every
    formula converted and no LaTeX command left in its text."""
    assert source.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert '<meta charset="utf-8">' in source and re.search(r"<title>[^<]+</title>", source)
    page = Page(source)
    assert "http" not in source and "url(" not in source  # nothing is fetched: no network needed
    assert not any(t in ("script", "link", "img", "iframe", "object") for t, _ in page.tags)
    assert all(not a.get("href", "").startswith(("/", "//")) and "src" not in a for _, a in page.tags)
    for formula in MATH.findall(source):
        ET.fromstring(formula)  # well-formed: a browser reads every element as written
    assert 'class="unconverted"' not in source
    assert not re.search(r"\\[A-Za-z]+|\$", page.visible()), re.search(r".{40}(\\[A-Za-z]+|\$).{40}", page.visible())
    return page


def numbers_in(cell: str) -> float:
    return float(cell.replace("−", "-").replace(" ", ""))


# --- tutor solve --format html ----------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_page() -> tuple[str, dict]:
    html = run("solve", "mlp_2_2_1", "--seed", 7, "--format", "html")
    data = run("solve", "mlp_2_2_1", "--seed", 7, "--format", "json")
    assert html.exit_code == 0 and data.exit_code == 0, html.output
    return html.stdout, json.loads(data.stdout)


def test_a_solution_page_is_a_self_contained_document_with_mathml(mlp_page):
    source, data = mlp_page
    page = check_page(source)
    assert page.count("math") > 100
    assert "<title>Backprop through a 2-2-1 network  (mlp_2_2_1, seed 7)</title>" in source
    assert page.count("details") == page.count("summary") == len(data["steps"])
    assert source.count("<details") - source.count('<details class="step">') == 1  # the first step open


def test_the_tables_show_the_numbers_of_the_solution_json(mlp_page):
    source, data = mlp_page
    tables = {title: table for title, table in zip(re.findall(r"<h2>([^<]+)</h2>\n<table>", source), Page(source).tables)}
    forward = tables["Forward pass"]
    assert forward[0] == ["layer", "unit", "z", "f", "a = f(z)"]
    z = [value for layer in sorted(data["preactivations"]) for value in data["preactivations"][layer]]
    assert len(forward) - 1 == len(z)
    assert [numbers_in(row[2]) for row in forward[1:]] == pytest.approx(z, rel=1e-10)
    gradients = tables["Gradients and one step of gradient descent"]
    shown = {row[0]: numbers_in(row[2]) for row in gradients[1:]}
    assert shown["w01(1)"] == pytest.approx(data["gradients"]["W1"][0][1], rel=1e-10)  # msubsup: w, 01, (1)
    assert shown["b0(2)"] == pytest.approx(data["gradients"]["b2"][0], rel=1e-10)
    assert len(gradients) - 1 == 9  # 6 + 3 parameters of a 2-2-1 network
    assert re.search(r'<td class="num"><math display="inline"><mrow><mn>&#x02212;0\.', source)  # one signed number


def test_an_expression_page_draws_its_graph_in_a_pre(tmp_path):
    out = tmp_path / "f.html"
    result = run("solve", "--expression", "tanh(w*x+b)", "--at", "w=0.5,x=1,b=0", "--format", "html", "--out", out)
    assert result.exit_code == 0 and result.stdout == ""
    page = check_page(out.read_text(encoding="utf-8"))
    assert page.count("pre") == 1 and "┌───┐" in page.visible()
    assert "Computational graph (topological order)" not in page.visible()  # the drawing stands for it


def test_a_network_file_with_a_hostile_name_shows_it_as_text(write_network):
    path = write_network({**EXAMPLE, "name": HOSTILE})
    result = run("solve", "--network", path, "--format", "html")
    assert result.exit_code == 0, result.output
    page = check_page(result.stdout)
    assert HOSTILE in page.visible()
    assert [t for t, _ in page.tags].count("b") == 0


NETWORKS = {  # each a form of network file whose steps write their own LaTeX (docs/formats.md, Network file)
    "adam": {"input": [0.5, -0.3], "target": [0.2], "loss": "bce", "learning_rate": 0.1, "weight_decay": 0.01,
             "layers": [{"activation": "relu", "weights": [[0.3, -0.6], [0.1, 0.2]], "bias": [0, 0]},
                        {"activation": "sigmoid", "weights": [[0.4, 0.5]], "bias": [0.1]}],
             "optimizer": {"kind": "adam", "steps": 2}},  # a gradient of about 1e-8, squared
    "kink": {"input": [1.0], "target": [1.0], "loss": "half_sse", "learning_rate": 0.1,
             "layers": [{"activation": "relu", "weights": [[0.5]], "bias": [-0.5]},  # relu′(0), by convention
                        {"activation": "identity", "weights": [[1.0]], "bias": [0]}]},
    "batch": {"examples": [{"input": [0.5, -0.3], "target": [0.2]}, {"input": [-0.4, 0.8], "target": [0.7]}],
              "layers": [{"activation": "sigmoid", "weights": [[0.3, -0.6]], "bias": [0.1]}], "loss": "half_sse",
              "learning_rate": 0.5},
    "recurrent": {"recurrent": {"inputs": [0.5, -0.3, 0.8], "w_x": 0.9, "w_h": 0.7, "target": 0.4,
                                "output": {"w": 1.3, "b": -0.2, "activation": "identity"}},
                  "loss": "half_sse", "learning_rate": 0.1},
    "conv1d": {"input": [0.5, -0.3, 0.8, 0.1], "target": [0.3], "loss": "mse", "learning_rate": 0.1,
               "layers": [{"type": "conv1d", "kernel": [0.2, -0.1], "bias": 0.1, "activation": "relu"},
                          {"activation": "identity", "weights": [[0.3, 0.2, -0.4]], "bias": [0]}]},
}


@pytest.mark.parametrize("name", NETWORKS)
def test_every_kind_of_network_file_converts_every_formula(write_network, name):
    result = run("solve", "--network", write_network(NETWORKS[name]), "--format", "html")
    assert result.exit_code == 0, result.output
    check_page(result.stdout)


def test_the_same_seed_gives_the_same_page():
    first = run("solve", "mlp_2_2_1", "--seed", 3, "--format", "html").stdout
    assert first == run("solve", "mlp_2_2_1", "--seed", 3, "--format", "html").stdout
    assert first != run("solve", "mlp_2_2_1", "--seed", 4, "--format", "html").stdout


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 11])
def test_every_template_converts_every_formula(seed):
    for template in Bank.open().templates():
        check_page(render_html(problem_report(generate(template, seed))))


# --- the LaTeX tutor writes, as HTML ----------------------------------------------------------

def test_hostile_text_in_a_formula_stays_text():
    converted = mathml(r"\text{" + HOSTILE.replace("&", r"\&") + "}")  # as a step writes a name into a formula
    assert "<script" not in converted and "<b>" not in converted
    assert "".join(ET.fromstring(converted).itertext()).replace("\u00a0", " ") == HOSTILE
    prose = latex_inline(tex_escape(HOSTILE))  # a template's prompt, typeset as the .tex sheet does
    assert "<script" not in prose and "<b>" not in prose
    assert re.sub(r"\s", "", Page(prose).visible()) == re.sub(r"\s", "", HOSTILE)


def test_what_the_converter_lacks_is_settled_or_shown_as_source():
    assert "unconverted" not in mathml(r"\begin{aligned} a &= b \\ &= c \end{aligned}", display=True)
    assert "unconverted" not in mathml(r"\operatorname{leaky\_relu}'(z)")
    kink = mathml(r"\operatorname{relu}'(z) = 0 \text{ ($\operatorname{relu}'(0) = 0$ by convention)}")
    assert "unconverted" not in kink and "<mtext>&#x000A0;by&#x000A0;convention)</mtext>" in kink
    assert mathml(r"\foo x") == r'<code class="unconverted">\foo x</code>'
    assert latex_inline(r"a \unknowncommand b") == r'a <code class="unconverted">\unknowncommand</code> b'


def test_a_sign_before_a_number_is_part_of_the_number_and_a_subtraction_is_not():
    def tokens(tex: str) -> list[tuple[str, str]]:
        return [(e.tag, e.text) for e in ET.fromstring(mathml(tex)).iter() if e.tag in ("mn", "mo")]

    # first in the row, after an opening bracket, after = and after ·: one number, spaced as one
    assert tokens(r"-0.3 \cdot (-0.7) = -0.21") == [("mn", "−0.3"), ("mo", "·"), ("mo", "("), ("mn", "−0.7"),
                                                     ("mo", ")"), ("mo", "="), ("mn", "−0.21")]
    # after a number, a closing bracket or f′ (a superscript) it subtracts: an operator of its own
    assert tokens(r"2 - 1 + (a) - 3 + f' - 1") == [("mn", "2"), ("mo", "−"), ("mn", "1"), ("mo", "+"), ("mo", "("),
                                                   ("mo", ")"), ("mo", "−"), ("mn", "3"), ("mo", "+"), ("mo", "−"),
                                                   ("mn", "1")]


def test_a_tabular_is_a_table_with_its_header():
    source = latex_blocks("Gradients:\n\n\\begin{tabular}{rr} layer & $f'(z)$ \\\\ \\hline 2 & $1$ \\\\ 1 & --- \\\\ "
                          "\\end{tabular}")
    table = Page(source).tables[0]
    assert source.count("<th>") == 2 and table[1:] == [["2", "1"], ["1", "—"]]


def test_a_key_in_texttt_keeps_its_formula():
    source = latex_inline(r"\texttt{$(z\cdot(1 - \operatorname{sigmoid}(z)) + 1)$,\allowbreak{} 2}")
    assert source.startswith("<code><math") and source.endswith("</math>,<wbr> 2</code>")


# --- tutor generate --html --------------------------------------------------------------------

TEMPLATES = ["mlp_2_2_1", "deep_chain_relu_6"]


@pytest.fixture(scope="module")
def html_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    roster = folder / "class.csv"
    roster.write_text(f'id,name\ns01,"{HOSTILE.replace(chr(34), chr(34) * 2)}"\nAna Lu,Ana\n', encoding="utf-8")
    out = folder / "hw"
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", 5, "--out", out, "--html", "--title", HOSTILE)
    assert result.exit_code == 0, result.output
    assert "set.json, moodle.xml, index.html, sheets/" in result.stdout
    assert "sheets/<id>.md (or .tex/.pdf/.html)" in result.stdout
    assert "index.html links every sheet and key: it is for you, not for the students" in result.stdout
    return out


def test_every_student_has_an_html_sheet_and_key_and_the_index_links_them(html_set):
    files = {str(p.relative_to(html_set)) for p in html_set.rglob("*.html")}
    assert files == {"index.html", "sheets/s01.html", "keys/s01.html", "sheets/Ana Lu.html", "keys/Ana Lu.html"}
    index = check_page((html_set / "index.html").read_text(encoding="utf-8"))
    links = [a["href"] for t, a in index.tags if t == "a"]
    assert links == ["sheets/s01.html", "keys/s01.html", "sheets/Ana%20Lu.html", "keys/Ana%20Lu.html"]
    assert "Set seed 5; templates: mlp_2_2_1, deep_chain_relu_6; 2 students." in index.visible()
    for page in files - {"index.html"}:
        check_page((html_set / page).read_text(encoding="utf-8"))


def test_roster_names_and_titles_are_text_on_every_page(html_set):
    for path in ("index.html", "sheets/s01.html", "keys/s01.html"):
        page = check_page((html_set / path).read_text(encoding="utf-8"))
        assert HOSTILE in page.visible() and page.count("b") == 0, path
    assert f"{HOSTILE} — {HOSTILE}" in Page((html_set / "sheets/s01.html").read_text(encoding="utf-8")).visible()


def test_the_sheet_asks_every_part_and_the_key_answers_it(html_set):
    data = json.loads((html_set / "set.json").read_text(encoding="utf-8"))
    student = data["students"][0]
    sheet = Page((html_set / "sheets/s01.html").read_text(encoding="utf-8"))
    key_source = (html_set / "keys/s01.html").read_text(encoding="utf-8")
    key = Page(key_source)
    labels = [row[0] for table in sheet.tables for row in table[1:]]
    assert labels == [f"{p['number']}.{part['id']}" for p in student["problems"] for part in p["parts"]]
    keys = [row for table in key.tables if table[0] == ["label", "question", "key"] for row in table[1:]]
    assert [(row[0], row[2]) for row in keys] == [(f"{p['number']}.{part['id']}", part["answer"])
                                                   for p in student["problems"] for part in p["parts"]]
    assert key_source.count("<details") == key.count("summary") and key_source.count("<details open") == 0
    assert key_source.count('<details class="step" open>') == 2  # the first step of each problem
    assert '<table class="worked">' in key_source  # the deep chain's table of layers


def test_html_is_the_same_for_any_jobs_and_force_without_html_removes_it(html_set, tmp_path):
    again = tmp_path / "again"
    roster = html_set.parent / "class.csv"
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", 5, "--out", again, "--html", "--title", HOSTILE,
                 "--jobs", 2)
    assert result.exit_code == 0, result.output
    for path in html_set.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(html_set)).read_bytes(), path
    result = run("generate", TEMPLATES[0], "--roster", roster, "--seed", 5, "--out", again, "--force")
    assert result.exit_code == 0, result.output
    assert not list(again.rglob("*.html"))  # no stale page of the old set beside the new one


def test_without_html_no_page_is_written(tmp_path):
    out = tmp_path / "hw"
    assert run("generate", TEMPLATES[0], "--count", 1, "--seed", 1, "--out", out).exit_code == 0
    assert not list(out.rglob("*.html"))
