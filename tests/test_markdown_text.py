"""Text from files is text in Markdown too (issue 12, points 4 and 5): a roster name, a network's
`name:`, a template's title and prompts, an answer typed by a student render exactly as written
in the .md sheets, keys and feedback and in `tutor solve --format markdown`; and no generated
.md line ends with a space (no "  " hard breaks). Rendering is checked with markdown-it (the
CommonMark parser rich itself uses), independently of our escaping."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from markdown_it import MarkdownIt

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.worked.render import markdown_code, markdown_text

NAME = "*Ana* <b>Silva</b> [me](http://x) _u_ `c` # 1. a\\b &amp;"
TRICKY = [NAME, "- starts a list", "+ also", "3. an ordered item", "12) another", "# a heading", "a | b", "~~gone~~"]


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def rendered(markdown: str) -> str:
    """The visible text of some Markdown (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").enable("table").render(markdown))).strip()


@pytest.mark.parametrize("text", TRICKY)
def test_escaped_text_renders_as_written(text):
    assert rendered(markdown_text(text)) == text
    assert rendered(markdown_code(text)) == text


def test_inline_code_with_backticks_stays_one_span():
    assert rendered(markdown_code("a`b``c")) == "a`b``c"


def first_heading(path: Path) -> str:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    return next(tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open")


@pytest.fixture(scope="module")
def odd_set(tmp_path_factory):
    """A set whose roster name, template title and prompts are all Markdown-looking text."""
    tmp = tmp_path_factory.mktemp("md")
    bank = tmp / "bank"
    bank.mkdir()
    template = yaml.safe_load(Bank.open().paths()["neuron_one_input"].read_text(encoding="utf-8"))
    template["title"] = "*Bold* <i>title</i> [link](http://x)"
    template["parts"][0]["prompt"] = "_z_ = <w>·x + b, see [this](y)."
    (bank / "odd_template.yaml").write_text(yaml.safe_dump(template, allow_unicode=True), encoding="utf-8")
    roster = tmp / "roster.csv"
    roster.write_text(f'id,name\na01,"{NAME}"\n', encoding="utf-8")
    out = tmp / "set"
    result = run("generate", "odd_template", "--roster", roster, "--seed", "3", "--out", out, "--bank", bank)
    assert result.exit_code == 0, result.output + result.stderr
    return out, template


def test_a_roster_name_and_a_template_title_render_literally(odd_set):
    out, template = odd_set
    assert first_heading(out / "sheets" / "a01.md") == markdown_text(f"Homework: {NAME}")
    sheet = rendered((out / "sheets" / "a01.md").read_text(encoding="utf-8"))
    key = rendered((out / "keys" / "a01.md").read_text(encoding="utf-8"))
    for text in (f"Homework: {NAME}", f"Problem 1: {template['title']}", template["parts"][0]["prompt"]):
        assert text in sheet, text
    assert f"Answer key: {NAME}" in key and template["parts"][0]["prompt"] in key


def test_a_students_answer_and_feedback_render_literally(odd_set, tmp_path):
    out, _ = odd_set
    answer = "<b>*0.5*</b> `x`"
    (tmp_path / "a01.yaml").write_text(yaml.safe_dump({"1.z": answer}), encoding="utf-8")
    result = run("grade", out / "set.json", tmp_path / "a01.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code in (0, 1), result.output
    feedback = rendered((tmp_path / "feedback" / "a01.md").read_text(encoding="utf-8"))
    assert f"your answer {answer}" in feedback


def test_a_network_name_renders_literally(example, write_network):
    path = write_network({**example, "name": NAME})
    result = run("solve", "--network", path, "--format", "markdown")
    assert result.exit_code == 0, result.output
    tokens = MarkdownIt("commonmark").parse(result.output)
    assert NAME in rendered(result.output)
    inline = [child.type for t in tokens for child in (t.children or [])]
    assert not {"em_open", "strong_open", "link_open", "html_inline"} & set(inline), inline


def test_no_generated_markdown_line_ends_with_a_space(odd_set, tmp_path):
    out, _ = odd_set
    (tmp_path / "a01.yaml").write_text(yaml.safe_dump({"1.z": "0.5 "}), encoding="utf-8")
    run("grade", out / "set.json", tmp_path / "a01.yaml", "--out", tmp_path / "g.csv")
    second = tmp_path / "more"
    assert run("generate", "mlp_2_2_1", "softmax_cross_entropy_2_3_2", "neuron_squared_error", "--count", "2",
               "--seed", "8", "--out", second).exit_code == 0
    files = [*out.glob("*/*.md"), *second.glob("*/*.md"), *(tmp_path / "feedback").glob("*.md")]
    assert len(files) >= 7
    ending = [f"{f.name}:{n}" for f in files for n, line in enumerate(f.read_text(encoding="utf-8").split("\n"), 1)
              if line != line.rstrip()]
    assert not ending, ending[:5]
