"""The `tutor` command: a thin shell over the core.

Imports of SymPy and the engine happen inside the commands, so `tutor --help` stays fast.
Core errors (TutorError) become one line on stderr and exit code 2; never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backprop_tutor import __version__
from backprop_tutor.cli.common import UsageError, bank_options, count, drawn_seed as _seed, make_console, print_rows
from backprop_tutor.cli.common import fail_on_tutor_errors as _fail_on_tutor_errors
from backprop_tutor.cli.common import open_bank as _open_bank

FORMATS = ("text", "json", "markdown", "latex", "html", "dot")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="tutor")
def cli() -> None:
    """backprop-tutor: exercises on derivatives and backpropagation, solved exactly and explained.

    \b
    Examples:
      tutor why
      tutor practice
      tutor solve --network net.yaml
      tutor solve --expression "tanh(w*x+b)" --at w=0.5,x=1,b=0
      tutor generate mlp_2_2_1 gradient_descent_step --count 30 --seed 1 --out hw1
      tutor grade hw1/set.json submitted/ --out grades.csv
    """


@cli.command()
@click.argument("template", required=False)
@click.option("--seed", type=click.IntRange(0), help="The variant of TEMPLATE (drawn and printed when left out).")
@bank_options
@click.option("--network", "network_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A network file (YAML or JSON): input, target, layers, loss, learning_rate.")
@click.option("--expression", "-e", help='An expression to differentiate, e.g. "tanh(w*x+b)".')
@click.option("--at", "at", help="Values of the expression's variables, e.g. w=0.5,x=1,b=0.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (dot: the computational graph in Graphviz DOT; latex draws it with TikZ).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of the terminal.")
@_fail_on_tutor_errors
def solve(template: str | None, seed: int | None, banks, only_bank: bool, network_file: Path | None,
          expression: str | None, at: str | None, fmt: str, out: Path | None) -> None:
    """A full worked solution: of a bank TEMPLATE and seed, of a network file, or of an expression.

    \b
    Examples:
      tutor solve mlp_2_2_1 --seed 7
      tutor solve mlp_2_2_1 --seed 7 --format json
      tutor solve --network net.yaml
      tutor solve --network net.yaml --format json --out solution.json
      tutor solve --expression "tanh(w*x+b)" --at w=0.5,x=1,b=0
      tutor solve --expression "max(x, y)*z" --at x=2,y=-1,z=3 --format markdown
      tutor solve mlp_2_2_1 --seed 7 --format html --out solution.html
      tutor solve --expression "x*y + x^2" --at x=3,y=-2 --format dot | dot -Tsvg > graph.svg

    \b
    An expression's computational graph is drawn in the text output when it fits the terminal
    (values above each wire, gradients below); --format dot and --format latex draw it for a
    network or template too. --format html writes one self-contained page: the formulas as
    MathML, the tables as tables, each worked step a section that opens and closes.

    \b
    A network file (YAML; JSON works too):
      input: [0.05, 0.10]
      target: [0.01, 0.99]
      layers:
        - {activation: sigmoid, weights: [[0.15, 0.20], [0.25, 0.30]], bias: [0.35, 0.35]}
        - {activation: sigmoid, weights: [[0.40, 0.45], [0.50, 0.55]], bias: [0.60, 0.60]}
      loss: half_sse
      learning_rate: 0.5
    """
    if sum(x is not None for x in (template, network_file, expression)) != 1:
        raise UsageError("give exactly one of TEMPLATE, --network FILE or --expression EXPR (see tutor solve --help)")
    if at is not None and expression is None:
        raise UsageError("--at goes with --expression; a network file or template holds its own values")
    if seed is not None and template is None:
        raise UsageError("--seed goes with TEMPLATE; a network file or expression has no random parts")
    if template is not None:
        report, data, graph = _template_solution(_open_bank(banks, only_bank).load(template), _seed(seed))
    elif expression is not None:
        report, data, graph = _expression_solution(expression, at)
    else:
        report, data, graph = _network_solution(network_file)
    _emit(report, data, fmt, out, graph)


def _template_solution(template, seed: int):
    from backprop_tutor.bank.generate import generate
    from backprop_tutor.bank.report import problem_report
    from backprop_tutor.bank.report import problem_json

    from backprop_tutor.worked.graph_layout import graph_of

    problem = generate(template, seed)
    return problem_report(problem), lambda: problem_json(problem), lambda: graph_of(problem.solution)


def _network_solution(path: Path):
    from backprop_tutor.engine.solution import solve_network
    from backprop_tutor.engine.network import load_network
    from backprop_tutor.worked.report import network_report
    from backprop_tutor.worked.solution_json import network_json
    from backprop_tutor.worked.network import network_steps

    from backprop_tutor.errors import NetworkError

    network = load_network(path)
    try:
        solution = solve_network(network)
    except NetworkError as e:
        raise e.located(source=str(path)) from None
    from backprop_tutor.worked.graph_layout import graph_of

    steps = network_steps(solution)
    return network_report(solution, steps), lambda: network_json(solution, steps), lambda: graph_of(solution)


def _expression_solution(expression: str, at: str | None):
    from backprop_tutor.errors import AnswerFormatError
    from backprop_tutor.engine.expression import parse_assignments, solve_expression
    from backprop_tutor.worked.expression import expression_steps
    from backprop_tutor.worked.report import expression_report
    from backprop_tutor.worked.solution_json import expression_json

    if at is None:
        at = ""
    try:
        values = parse_assignments(at)
        solution = solve_expression(expression, values)
    except AnswerFormatError as e:  # about the values (source --at), or about the expression's text
        raise UsageError(str(e if e.source else e.located(f"--expression {expression!r}"))) from None
    from backprop_tutor.worked.graph_layout import expression_graph

    steps = expression_steps(solution)
    return (expression_report(solution, steps), lambda: expression_json(solution, steps),
            lambda: expression_graph(solution))


def _emit(report, data, fmt: str, out: Path | None, graph=lambda: None) -> None:
    """Write the solution in `fmt`. `data` and `graph` make the JSON and the computational graph
    (worked/graph_layout.py) on demand; the graph is drawn in text, DOT and LaTeX."""
    if fmt == "json":
        import json

        text = json.dumps(data(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "dot":
        from backprop_tutor.worked.graph_drawing import draw_dot

        drawn = graph()
        if drawn is None:
            raise UsageError("--format dot draws a computational graph, and this problem has none drawn: an "
                             "activation problem is one function at a point; a recurrent cell's steps are in its "
                             "worked solution, and so is a conv1d layer's shared kernel")
        text = draw_dot(drawn)
    elif fmt == "markdown":
        from backprop_tutor.worked.render import render_markdown

        text = render_markdown(report)
    elif fmt == "latex":
        from backprop_tutor.worked.graph_drawing import with_tikz
        from backprop_tutor.worked.render import render_latex

        text = render_latex(with_tikz(report, graph()))
    elif fmt == "html":
        from backprop_tutor.cli.plaintext import WIDTH
        from backprop_tutor.worked.graph_drawing import with_drawing
        from backprop_tutor.worked.html import render_html

        text = render_html(with_drawing(report, graph(), WIDTH))  # the drawing as a file gets it: within 80
    elif out is None and make_console().is_terminal:
        from backprop_tutor.cli.render import render_rich
        from backprop_tutor.worked.graph_drawing import with_drawing

        console = make_console()
        console.print(render_rich(with_drawing(report, graph(), console.width)))
        return
    else:  # piped or to a file: plain text, the same at any terminal width (the graph drawn within 80)
        from backprop_tutor.cli.plaintext import WIDTH, render_plain
        from backprop_tutor.worked.graph_drawing import with_drawing

        text = render_plain(with_drawing(report, graph(), WIDTH))
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write ({e.strerror})") from None
    click.echo(f"wrote {out}", err=True)


class _AnswerCommand(click.Command):
    """A command whose arguments may be answers like `-0.0829` or `-tanh(x)`: anything that is
    not one of the command's options is an argument, so no `--` is needed before a negative
    answer. A misspelt long option (`--sed`) is still reported as one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {}
        for param in self.get_params(ctx):  # with --help
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    takes_value[name] = not (param.is_flag or param.count)
        options, answers = [], []
        tokens = iter(args)
        for token in tokens:
            name = token.split("=", 1)[0]
            if token == "--":
                answers += list(tokens)
            elif name in takes_value or (token.startswith("--") and token[2:3].isalpha()):
                options.append(token)
                if takes_value.get(name) and "=" not in token:
                    options += [next(tokens, "")]
            else:
                answers.append(token)
        return super().parse_args(ctx, options + ["--"] + answers)


@cli.command(cls=_AnswerCommand)
@click.argument("args", nargs=-1, metavar="[TEMPLATE] ANSWER")
@click.option("--seed", type=click.IntRange(0), help="The variant of TEMPLATE.")
@click.option("--part", "part_id", help="The part of TEMPLATE to grade, e.g. delta2.")
@click.option("--expected", help="Grade against this expression or number instead of a template part.")
@click.option("--earlier", "earlier", multiple=True, metavar="PART=ANSWER",
              help="The learner's answer to an earlier part, for error carried forward (repeatable).")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Output format.")
@bank_options
def check(args, seed, part_id, expected, earlier, fmt, banks, only_bank) -> None:
    """Grade one answer, non-interactively. Exit 0 correct, 1 incorrect, 2 invalid answer or bad usage,
    3 the grader failed (an internal error, no verdict).

    \b
    Examples:
      tutor check mlp_2_2_1 --seed 7 --part delta2 -0.0829
      tutor check activation_derivative_symbolic --seed 9 --part derivative "σ(z)(1-σ(z))"
      tutor check mlp_2_2_1 --seed 7 --part dW1 -0.105 --earlier delta1="[-0.15, -0.05]"
      tutor check --expected "1 - tanh(x)^2" "sech(x)^2"
      tutor check --expected 0.25 "1/4" --format json
    """
    from backprop_tutor.errors import AnswerFormatError, TutorError
    from backprop_tutor.grading.answers import GradingFailure, grade, target_for_expected
    from backprop_tutor.grading.grade import grade_part
    from backprop_tutor.grading.result import Status

    try:
        if expected is not None:
            if len(args) != 1 or seed is not None or part_id is not None:
                raise UsageError("with --expected give just the ANSWER (no TEMPLATE, --seed or --part)")
            try:
                target = target_for_expected(expected)
            except AnswerFormatError as e:
                raise UsageError(f"--expected {expected!r}: {e}") from None
            result = grade(target, args[0])
        else:
            if len(args) != 2 or seed is None or part_id is None:
                raise UsageError("give TEMPLATE --seed N --part ID ANSWER, or --expected EXPR ANSWER "
                                 "(see tutor check --help)")
            from backprop_tutor.bank.generate import generate

            problem = generate(_open_bank(banks, only_bank).load(args[0]), seed, worked=False)
            try:
                before = [p.id for p in problem.earlier(problem.part(part_id))]
            except AnswerFormatError as e:
                raise UsageError(str(e)) from None
            previous = {}
            for item in earlier:
                pid, sep, text = item.partition("=")
                pid = pid.strip()
                if not sep:
                    raise UsageError(f"--earlier {item!r}: write PART=ANSWER, e.g. --earlier delta2=0.13")
                if pid not in before:
                    parts = ", ".join(before) or "none: it is the first part"
                    raise UsageError(f"--earlier {pid}: not a part before {part_id}; the parts before it are {parts}")
                previous[pid] = text
            try:
                result = grade_part(problem, part_id, args[1], previous)
            except AnswerFormatError as e:
                raise UsageError(str(e)) from None
    except TutorError as e:
        raise UsageError(str(e)) from None
    except GradingFailure as e:  # no verdict: exit codes 0-2 are verdicts, and scripts read 1 as incorrect
        click.echo(f"Error: {e}", err=True)
        sys.exit(3)
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        from backprop_tutor.cli.feedback import render_result

        make_console(prose=True).print(render_result(result))
    sys.exit({Status.CORRECT: 0, Status.INCORRECT: 1}.get(result.status, 2))


@cli.group()
def bank() -> None:
    """The problem bank: list, show and validate the YAML templates.

    \b
    Examples:
      tutor bank list
      tutor bank show mlp_2_2_1 --seed 3
      tutor bank validate
      tutor bank validate my_templates/new_problem.yaml
    """


@bank.command("list")
@bank_options
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Output format.")
@_fail_on_tutor_errors
def bank_list(banks, only_bank: bool, fmt: str) -> None:
    """Every template: id, title, kind, skills and level.

    \b
    Examples:
      tutor bank list
      tutor bank list --format json
      tutor bank list --bank ./my_templates
    """
    entries = _open_bank(banks, only_bank, skip_broken=True).entries()  # the catalogue: no SymPy, so the list comes at once
    rows = [{"id": e.id, "title": e.title, "kind": e.kind, "skills": list(e.skills), "level": e.level} for e in entries]
    if fmt == "json":
        import json

        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = ("id", "level", "kind", "title", "skills")
    cells = [[r["id"], str(r["level"]), r["kind"], r["title"], " ".join(r["skills"])] for r in rows]
    # ids are typed back on the command line, so never broken; at 80 columns the skills go under the title
    print_rows(columns, cells, right=("level",), whole=("id", "level", "kind"), beneath={"skills": "title"})


@bank.command("show")
@click.argument("template_id")
@click.option("--seed", type=click.IntRange(0), help="The sample problem's variant (drawn and printed when left out).")
@bank_options
@_fail_on_tutor_errors
def bank_show(template_id: str, seed: int | None, banks, only_bank: bool) -> None:
    """The template file exactly as it is; in a terminal, one sample problem drawn from it after it.

    Piped or redirected, the output is the file byte for byte, so it can be copied and edited
    as a new template (tutor solve ID --seed N prints a sample problem anywhere).

    \b
    Examples:
      tutor bank show mlp_2_2_1
      tutor bank show mlp_2_2_1 --seed 3
      tutor bank show mlp_2_2_1 > my_templates/my_mlp.yaml
    """
    from rich.text import Text

    bank_ = _open_bank(banks, only_bank)
    path = bank_.path(template_id)
    template = bank_.load(template_id)  # a malformed template is reported, not shown as if it worked
    try:
        source = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    out = make_console()
    sample = out.is_terminal
    if sample:
        out.print(Text(f"{path}\n", style="bold"))
    # The file's own bytes: no highlighting, cropping or wrapping can change a line of it.
    sys.stdout.flush()
    sys.stdout.buffer.write(source)
    sys.stdout.buffer.flush()
    if sample:
        from backprop_tutor.bank.generate import generate
        from backprop_tutor.bank.report import problem_report
        from backprop_tutor.cli.render import render_rich

        out.print(Text(("" if source.endswith(b"\n") else "\n") + "\nA sample problem:", style="bold"))
        out.print(render_rich(problem_report(generate(template, _seed(seed)))))


@bank.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--seeds", type=click.IntRange(2, 1000), default=20, show_default=True,
              help="How many seeds to generate and check per template.")
@bank_options
def bank_validate(paths, seeds: int, banks, only_bank: bool) -> None:
    """Check templates: the schema, then a self-test of generated problems.

    PATHS are template files or folders (default: every template in the bank). For each template
    the self-test generates --seeds variants and checks that every key, read back as a learner's
    answer, equals the engine's value; that every numeric key agrees with a finite-difference or
    second-method check; that no two seeds give the same problem; and that no constraint is
    violated. Exit 0 when all pass, 1 when a self-test fails, 2 when a template is malformed.

    \b
    Examples:
      tutor bank validate
      tutor bank validate problem_bank/mlp_2_2_1.yaml
      tutor bank validate --bank ./my_templates --only-bank
    """
    from backprop_tutor.errors import TutorError
    from backprop_tutor.grading.selftest import check_template

    try:
        files = _template_files(paths) if paths else list(_open_bank(banks, only_bank).paths().values())
    except TutorError as e:
        raise UsageError(str(e)) from None
    malformed = failed = 0
    for path in files:
        try:
            problems = check_template(path, seeds)
        except TutorError as e:
            malformed += 1
            click.echo(f"invalid  {e}")
            continue
        if problems:
            failed += 1
            click.echo(f"FAILED   {path}")
            for problem in problems:
                click.echo(f"  - {problem}")
        else:
            click.echo(f"ok       {path.stem}  ({seeds} seeds)")
    click.echo(f"{count(len(files), 'template')}: {len(files) - malformed - failed} ok, {failed} failed the self-test, "
               f"{malformed} malformed")
    if malformed:
        sys.exit(2)
    if failed:
        sys.exit(1)


def _template_files(paths) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


# The learner's commands live in cli/learner.py (practice, stats, why).
from backprop_tutor.cli.learner import practice, stats, why  # noqa: E402

cli.add_command(practice)
cli.add_command(stats)
cli.add_command(why)

# `tutor progress export/import` lives in cli/transfer.py.
from backprop_tutor.cli.transfer import progress  # noqa: E402

cli.add_command(progress)

# The instructor's commands live in cli/homework.py (generate, grade).
from backprop_tutor.cli.homework import generate as generate_set, grade as grade_set  # noqa: E402

cli.add_command(generate_set, "generate")
cli.add_command(grade_set, "grade")


def main() -> None:
    try:
        cli.main(prog_name="tutor", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
