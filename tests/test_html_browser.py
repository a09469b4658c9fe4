"""The HTML pages in a real browser (issue 16, point 3): Debian's chromium, headless, driven by
playwright. Each page loads with no console error, every <math> element is laid out with a
non-zero size, a step's <details> opens and closes, and a screenshot is not blank.

Skipped when chromium or playwright is missing, unless TUTOR_REQUIRE_BROWSER=1 (.ci/run sets
it, after installing chromium): there a missing browser fails instead."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

pytestmark = pytest.mark.slow  # a browser starts: about 25 s in all

# chromium's background services would try the network: none of it is needed to render a file
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if executable is None or sync_playwright is None:
        missing = "chromium" if executable is None else "playwright"
        if os.environ.get("TUTOR_REQUIRE_BROWSER"):
            pytest.fail(f"{missing} is missing and TUTOR_REQUIRE_BROWSER is set")
        pytest.skip(f"{missing} is not installed")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """A solution page of a template and of an expression, and a generated set's sheet, key and index."""
    folder = tmp_path_factory.mktemp("pages")
    runs = {"solve.html": ["solve", "mlp_2_2_1", "--seed", "7"],
            "expression.html": ["solve", "--expression", "sigmoid(w*x+b)^2", "--at", "w=0.5,x=1,b=-1"]}
    for name, args in runs.items():
        result = CliRunner().invoke(cli, [*args, "--format", "html", "--out", str(folder / name)])
        assert result.exit_code == 0, result.output
    out = folder / "hw"
    result = CliRunner().invoke(cli, ["generate", "mlp_2_2_1", "vectorized_backprop", "--count", "1", "--seed", "3",
                                      "--out", str(out), "--html"])
    assert result.exit_code == 0, result.output
    return {**{name: folder / name for name in runs}, "sheet": out / "sheets" / "s01.html",
            "key": out / "keys" / "s01.html", "index": out / "index.html"}


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def _math_sizes(page) -> list[tuple[float, float]]:
    return page.eval_on_selector_all(
        "math", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })")


def _colours(png: bytes) -> tuple[int, float]:
    """The number of distinct colours in the screenshot, and the share of its pixels not white."""
    from PIL import Image  # Pillow, which matplotlib (a test extra) depends on

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    white = sum(count for count, rgb in colours if rgb == (255, 255, 255))
    return len(colours), 1 - white / (image.width * image.height)


@pytest.mark.parametrize("name", ["solve.html", "expression.html", "sheet", "key", "index"])
def test_the_page_renders_its_mathematics_without_errors(browser, pages, name, tmp_path):
    page, errors = _open(browser, pages[name])
    page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")  # lay out every step
    sizes = _math_sizes(page)
    if name != "index":
        assert len(sizes) > 20
    assert all(width > 0 and height > 0 for width, height in sizes), [s for s in sizes if not (s[0] and s[1])][:5]
    png = page.screenshot(full_page=True)
    shots = os.environ.get("TUTOR_SCREENSHOTS")  # a folder to keep the screenshots in, to look at
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        (Path(shots) / f"{name.split('.')[0]}.png").write_bytes(png)
    colours, inked = _colours(png)
    assert colours > 20 and inked > 0.01, (colours, inked)  # text, rules and shading: not a blank page
    assert errors == []
    page.close()


@pytest.mark.parametrize("name", ["solve.html", "key"])
def test_a_step_opens_and_closes_on_a_click(browser, pages, name):
    page, errors = _open(browser, pages[name])
    step = page.locator("details.step").nth(1)  # the second step: closed at first
    body = step.locator("div.display, p").first
    assert step.get_attribute("open") is None and not body.is_visible()
    step.locator("summary").click()
    assert step.get_attribute("open") == "" and body.is_visible()
    box = step.locator("math").first.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    step.locator("summary").click()
    assert step.get_attribute("open") is None and not body.is_visible()
    assert errors == []
    page.close()


@pytest.mark.parametrize("name", ["solve.html", "key"])
def test_a_printed_page_shows_every_step_folded_or_not(browser, pages, name):
    """On paper nothing can be unfolded: printed, a key shows every step's working."""
    page, errors = _open(browser, pages[name])
    folded = page.locator("details.step:not([open])")
    assert folded.count() > 0 and not folded.first.locator("math").first.is_visible()  # on screen: folded
    page.emulate_media(media="print")
    for i in range(folded.count()):
        assert folded.nth(i).locator("div.display, p").first.is_visible(), i
    page.emulate_media(media="screen")
    assert not folded.first.locator("math").first.is_visible()
    assert errors == []
    page.close()
