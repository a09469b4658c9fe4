"""The `tutor` command: a thin shell over the core.

Imports of SymPy and the engine happen inside the commands, so `tutor --help` stays fast.
Core errors (TutorError) become one line on stderr and exit code 2; never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backprop_tutor import __version__

FORMATS = ("text", "json", "markdown", "latex")


class UsageError(click.ClickException):
    """A user's input is wrong: one line, exit code 2."""

    exit_code = 2


def _fail_on_tutor_errors(func):
    """Turn the core's exceptions into one-line CLI errors."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from backprop_tutor.errors import TutorError

        try:
            return func(*args, **kwargs)
        except TutorError as e:
            raise UsageError(str(e)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="tutor")
def cli() -> None:
    """backprop-tutor: exercises on derivatives and backpropagation, solved exactly and explained.

    \b
    Examples:
      tutor solve --network net.yaml
      tutor solve --expression "tanh(w*x+b)" --at w=0.5,x=1,b=0
    """


@cli.command()
@click.option("--network", "network_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A network file (YAML or JSON): input, target, layers, loss, learning_rate.")
@click.option("--expression", "-e", help='An expression to differentiate, e.g. "tanh(w*x+b)".')
@click.option("--at", "at", help="Values of the expression's variables, e.g. w=0.5,x=1,b=0.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of the terminal.")
@_fail_on_tutor_errors
def solve(network_file: Path | None, expression: str | None, at: str | None, fmt: str, out: Path | None) -> None:
    """A full worked solution: forward pass, loss, backward pass, gradients, one descent step.

    \b
    Examples:
      tutor solve --network net.yaml
      tutor solve --network net.yaml --format json --out solution.json
      tutor solve --expression "tanh(w*x+b)" --at w=0.5,x=1,b=0
      tutor solve --expression "max(x, y)*z" --at x=2,y=-1,z=3 --format markdown

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
    if (network_file is None) == (expression is None):
        raise UsageError("give exactly one of --network FILE or --expression EXPR (see tutor solve --help)")
    if network_file is not None and at is not None:
        raise UsageError("--at goes with --expression; a network file holds its own values")
    if expression is not None:
        report, data = _expression_solution(expression, at)
    else:
        report, data = _network_solution(network_file)
    _emit(report, data, fmt, out)


def _network_solution(path: Path):
    from backprop_tutor.backprop import solve_network
    from backprop_tutor.network import load_network
    from backprop_tutor.report import network_report
    from backprop_tutor.solution_json import network_json
    from backprop_tutor.worked import network_steps

    solution = solve_network(load_network(path))
    steps = network_steps(solution)
    return network_report(solution, steps), lambda: network_json(solution, steps)


def _expression_solution(expression: str, at: str | None):
    from backprop_tutor.errors import AnswerFormatError
    from backprop_tutor.graph import parse_assignments, solve_expression
    from backprop_tutor.report import expression_report
    from backprop_tutor.solution_json import expression_json

    if at is None:
        at = ""
    try:
        values = parse_assignments(at)
        solution = solve_expression(expression, values)
    except AnswerFormatError as e:
        raise UsageError(f"--expression {expression!r}: {e}" if "--at" not in str(e) else str(e)) from None
    return expression_report(solution), lambda: expression_json(solution)


def _emit(report, data, fmt: str, out: Path | None) -> None:
    if fmt == "json":
        import json

        text = json.dumps(data(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        from backprop_tutor.render import render_markdown

        text = render_markdown(report)
    elif fmt == "latex":
        from backprop_tutor.render import render_latex

        text = render_latex(report)
    else:
        from rich.console import Console

        from backprop_tutor.render import render_rich

        if out is None:
            Console().print(render_rich(report))
            return
        import io

        buffer = io.StringIO()
        Console(file=buffer, no_color=True, width=120, force_terminal=False).print(render_rich(report))
        text = buffer.getvalue()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write ({e.strerror})") from None
    click.echo(f"wrote {out}", err=True)


def main() -> None:
    try:
        cli.main(prog_name="tutor", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
