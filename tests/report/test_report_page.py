"""bench/report/page.py: the self-contained results page, its structure from small asv results written here,
and how it renders in headless Chromium with the network off (desktop and phone width)."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, cli, example_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


class Page(HTMLParser):
    """What a test needs from the HTML: tables (rows of (classes, text) cells), resources, scripts."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts = 0
        self._cell: list | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                self.urls.append((tag, name, attrs[name]))
        if tag == "script":
            self.scripts += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = [attrs.get("class") or "", ""]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append((self._cell[0], self._cell[1].strip()))
            self._cell = None


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """`report` run as a user runs it over two commits of one machine: tables, plots, verdicts, page
    (written once for the module: the tests read it)."""
    results = example_results(tmp_path_factory.mktemp("page"))
    proc = cli("report", cwd=results.parents[1])
    assert proc.returncode == 0, proc.stderr
    assert "results page" in proc.stderr
    return results.parent / "report" / "index.html"


def row(table, name):
    return next(r for r in table if r and r[0][1] == name)


def test_page_holds_the_tables_cells_and_verdicts(page):
    text = page.read_text()
    parsed = Page(text)
    training, _, startup = parsed.tables[:3]  # the comparison table in its column groups: each fits a screen
    header = [cell for _, cell in training[0]]
    assert "train samples/s @128" in header and "cold start s" not in header
    column = header.index("train samples/s @128")
    torch = row(training, "torch")
    classes, cell = torch[column]
    assert cell == "9,846 (1.00x)" and "num" in classes and "best" in classes  # 128 / 0.013 s, the fastest
    assert "best" not in row(training, "tensorflow")[column][0]  # 6,214
    cold = [cell for _, cell in startup[0]].index("cold start s")
    assert row(startup, "torch")[cold][0].endswith("num best")  # 1.5 s: lower is better
    assert row(startup, "jax")[cold][0].endswith(" na") and row(startup, "jax")[cold][1].startswith("n/a [")
    assert "Start-up, memory and accuracy" in text  # each part of the table has its one-line lead
    assert ("a", "href", "#m-train_step") in parsed.urls and 'id="m-train_step"' in text  # header -> definition
    assert 'class="v-regression"' in text and "Two runs compared" in text
    assert parsed.scripts == 0


def test_page_is_self_contained_with_decodable_plots(page):
    import matplotlib.image

    parsed = Page(page.read_text())
    images = [v for tag, attr, v in parsed.urls if tag == "img"]
    assert len(images) >= 2  # throughput and history, at least
    for uri in images:
        assert uri.startswith("data:image/png;base64,")
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    external = [(tag, attr, v) for tag, attr, v in parsed.urls if not v.startswith(("data:", "#"))]
    assert external == []


def test_the_committed_page_is_light_and_self_contained():
    page = ROOT / "results" / "report" / "index.html"
    assert page.stat().st_size < 2 * 2**20
    parsed = Page(page.read_text())
    assert parsed.scripts == 0 and parsed.tables
    assert all(v.startswith(("data:", "#")) for _, _, v in parsed.urls)
    assert not (ROOT / "results" / "report" / "latest.html").exists()  # replaced by index.html
    assert (ROOT / "results" / "report" / "screenshot.png").is_file()
    text = re.sub(r"<style.*?</style>|<[^>]+>", "", page.read_text(), flags=re.S)
    assert "`" not in html.unescape(text)  # Markdown rendered: code spans are <code>, no raw backticks


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *OFFLINE, "--enable-logging=stderr", "--v=0", *args], capture_output=True, text=True, timeout=120
    )


def not_blank(path: Path) -> float:
    """Share of pixels that are not page-white."""
    import matplotlib.image

    pixels = matplotlib.image.imread(str(path))[..., :3]
    return float((np.abs(pixels - 1.0).sum(axis=-1) > 0.1).mean())


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (Debian: apt-get install -y chromium; .ci/run installs it when it runs as root)",
)
@pytest.mark.parametrize("width,height", [(1400, 1000), (390, 844)], ids=["desktop", "phone"])
def test_page_renders_in_headless_chromium_offline(page, tmp_path, width, height):
    shot = tmp_path / "shot.png"
    proc = chromium(f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    assert not_blank(shot) > 0.02  # text, tables and plots drew
    assert "CONSOLE" not in proc.stderr, [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln]
    dom = chromium(f"--window-size={width},{height}", "--dump-dom", page.as_uri()).stdout
    assert "train samples/s @128" in dom and "9,846" in dom


MEASURE = """document.getElementById('f').onload = function () {
  var doc = this.contentDocument, d = doc.documentElement, out = {scroll: d.scrollWidth, client: d.clientWidth,
      boxes: [], images: [], sticky: []};
  doc.querySelectorAll('.scroll').forEach(function (b) {
    if (b.scrollWidth > b.clientWidth + 1) out.boxes.push(b.previousElementSibling ? b.previousElementSibling.className : '');
  });
  doc.querySelectorAll('img').forEach(function (i) { out.images.push(i.naturalWidth); });
  doc.querySelectorAll('th.row_heading').forEach(function (h) { out.sticky.push(getComputedStyle(h).position); });
  var p = document.createElement('pre'); p.id = 'm'; p.textContent = JSON.stringify(out); document.body.appendChild(p);
};"""


def measure(page: Path, tmp_path: Path, width: int, height: int) -> dict:
    """The page laid out in a width x height frame, as a reader's browser lays it out: the document's
    width against the frame's, which table boxes scroll inside themselves (the class of the element just
    above each: 'lead' for the comparison table's parts), each image's decoded width, each row heading's
    position. The measuring script is the test's, in a wrapper page; the results page has none."""
    import json

    wrapper = tmp_path / f"frame-{width}.html"
    wrapper.write_text(
        f'<html><body style="margin:0"><iframe id="f" src="{page.as_uri()}" style="width:{width}px;'
        f'height:{height}px;border:0"></iframe><script>{MEASURE}</script></body></html>'
    )
    dom = chromium(
        "--allow-file-access-from-files",
        "--virtual-time-budget=8000",
        f"--window-size={width + 40},{height + 60}",
        "--dump-dom",
        wrapper.as_uri(),
    ).stdout
    found = re.search(r'id="m">(.*?)</pre>', dom)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def colourful(uri: str) -> float:
    """Share of a PNG's pixels in colour: every plot draws its data in colour, an empty one only axes."""
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")[..., :3]
    return float((pixels.max(axis=-1) - pixels.min(axis=-1) > 0.15).mean())


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)")
@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("which", ["fresh", "committed"])
def test_the_page_never_scrolls_sideways_and_draws_no_empty_plot(page, tmp_path, width, height, which):
    """The page a `report` writes here and the committed one, at 1280x800 and on a phone (390x844): the
    document is no wider than the screen; at 1280 every part of a comparison table fits without
    scrolling (a wider table, variants or open division, scrolls inside its own box with the framework
    column fixed); every image decodes and draws something in colour."""
    shown = page if which == "fresh" else ROOT / "results" / "report" / "index.html"
    m = measure(shown, tmp_path, width, height)
    assert m["client"] == width and m["scroll"] <= m["client"], m
    if width >= 1280:
        assert "lead" not in m["boxes"], m["boxes"]  # the comparison table's parts fit
    assert m["sticky"] and set(m["sticky"]) == {"sticky"}, set(m["sticky"])
    assert m["images"] and min(m["images"]) > 100, m["images"]
    uris = [v for tag, attr, v in Page(shown.read_text()).urls if tag == "img"]
    empty = [i for i, uri in enumerate(uris) if colourful(uri) < 0.002]
    assert not empty, f"images {empty} of {len(uris)} draw nothing in colour"


# ---------------------------------------------------------------- text from outside stays text

PAYLOAD = (
    "boom <script>document.body.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\"> a|b [x](javascript:alert(1))"
)
EVIL_MACHINE = "evil<img src=x onerror=document.body.setAttribute('data-pwned','machine')>"


@pytest.fixture
def hostile_page(results) -> Path:
    """A head whose benchmark fails with an HTML payload in its message (the newest paired comparison),
    a skipped framework with the same reason, and a machine folder whose name is markup."""
    import pandas as pd
    from asv_files import BASE, FW_2B, HEAD, write_results

    from bench.tasks.compare import CompareOptions, Comparison, estimates, render

    common = {"framework": "torch", "device": "cpu", "benchmark": "throughput.TrainStep.time_train_step"}
    common.update(param=1, params="torch, cpu, 128", key="128")
    rows = [
        {**common, "round": r, "arm": side, "value": 0.01 if side == "base" else float("nan"), "samples": ()}
        | ({"status": "ok", "reason": ""} if side == "base" else {"status": "failed", "reason": PAYLOAD})
        for r in range(1, 7)
        for side in ("base", "head")
    ]
    frame = pd.DataFrame(rows)
    c = Comparison(BASE, HEAD, frame, estimates(frame, 0.03, 0.95), {"torch:cpu": 1.0}, {"jax:cpu": PAYLOAD})
    md = render(c, EVIL_MACHINE, CompareOptions(base=BASE, head=HEAD))
    out = results.parent / "compare" / "box" / f"{BASE[:8]}-{HEAD[:8]}"
    out.mkdir(parents=True)
    (out / "regressions.md").write_text(md)
    write_results(
        results,
        EVIL_MACHINE,
        HEAD,
        1_700_000_200_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)},
    )
    proc = cli("report", "--no-plots", "--machine", "box", cwd=results.parents[1])
    assert proc.returncode in (0, 1), proc.stderr
    return results.parent / "report" / "index.html"


def test_markup_from_outside_reaches_neither_the_page_nor_the_markdown_as_markup(hostile_page):
    html = hostile_page.read_text()
    assert "<script" not in html and "<img src=x" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;document.body.setAttribute" in html  # shown, as text
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    md = (hostile_page.parents[1] / "compare" / "box").glob("*/regressions.md")
    table = [line for line in next(md).read_text().splitlines() if line.startswith("|")]
    cells = [len(re.split(r"(?<!\\)\|", line)) for line in table]
    assert len(set(cells)) == 1, table  # the '|' in the message did not add a column


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)")
def test_no_script_from_a_failure_message_or_a_name_runs_in_the_browser(hostile_page):
    dom = chromium("--virtual-time-budget=3000", "--dump-dom", hostile_page.as_uri()).stdout
    assert "<body" in dom  # the page loaded
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-pwned" not in body, f"a script from the data ran: {body}"
    assert "document.body.setAttribute('data-pwned','script')" in dom  # the message is on the page, as text


def test_machines_with_a_complete_comparison_come_first_and_partial_ones_under_their_own_heading(tmp_path):
    """A newer machine that ran one benchmark only no longer opens the page."""
    from asv_files import BASE, FW2, HEAD, base_values, write_results

    from bench import report
    from bench.report.page import machine_order

    res = tmp_path / "results" / "asv"
    write_results(res, "full-box", BASE, 1_700_000_000_000, base_values())
    cold = {"cold_start.ColdStart.timeraw_cold_start": (FW2, [1.5, 3.0, 2.0], [None] * 3)}
    write_results(res, "partial-box", HEAD, 1_700_000_900_000, cold)  # newer, but partial
    frame = report.load_results(res)
    assert machine_order(frame) == ["full-box", "partial-box"]
    page = report.write_page(frame, tmp_path / "out").read_text()
    assert page.index('id="machine-full-box"') < page.index("Machines with partial results only")
    assert page.index("Machines with partial results only") < page.index('id="machine-partial-box"')


def test_the_answer_comes_first_on_the_page_and_in_the_readme_block(tmp_path):
    """One sentence per question (training, inference at batch 128) with every ratio to the reference
    and its interval, above the evidence."""
    import random

    import pandas as pd
    from asv_files import BASE, FW, round_row, write_results

    from bench import report
    from bench.store import rounds_file

    res = tmp_path / "results" / "asv"
    train, predict = "throughput.TrainStep.time_train_step", "throughput.Predict.time_predict"
    values = {train: (FW, [0.010, 0.020, 0.015], [None] * 3), predict: (FW, [0.004, 0.008, 0.006], [None] * 3)}
    write_results(res, "box", BASE, 1_700_000_000_000, values)
    rng, rows = random.Random(2), []
    for r in range(1, 7):
        for bench, times in ((train, (0.010, 0.020, 0.015)), (predict, (0.004, 0.008, 0.006))):
            for fw, t in zip(("torch", "tensorflow", "jax"), times):
                rows.append(round_row(fw, bench, "128", r, [t * (1 + rng.gauss(0, 0.005)) for _ in range(4)]))
    rounds_file.save(pd.DataFrame(rows), res, "box", BASE, append=False)
    frame = report.load_results(res)
    training, inference = report.summary.answer(frame, "box", BASE, "cpu")
    assert training.startswith(
        f"Training at batch 128 on `box` at `{BASE[:8]}` (CPU, 6 paired rounds, method v1): torch fastest"
    )
    assert "jax 0.67x [" in training and "tensorflow 0.50x [" in training
    assert training.index("jax") < training.index("tensorflow")  # fastest first
    assert inference.startswith("Inference at batch 128")
    page = report.write_page(frame, tmp_path / "out").read_text()
    assert page.index('id="answer"') < page.index('id="machine-box"') and "jax 0.67x [" in page
    assert f"at <code>{BASE[:8]}</code>" in page and f"`{BASE[:8]}`" not in page  # Markdown rendered, no backticks
    block = report.readme_table(frame)
    assert block.startswith(f"- {training}")
    header, rule, *rows = [line for line in block.splitlines() if line.startswith("|")]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "framework",
        "train samples/s @128",
        "train ratio @128",
        "predict samples/s @128",
        "predict ratio @128",
    ]  # the compact table: batch 128 only, each ratio in a column of its own
    jax = next(r for r in rows if r.startswith("| jax"))
    assert " ±" in jax.split("|")[2] and "0.67x [" in jax.split("|")[3]
    assert "[the results page](results/report/index.html)" in block


def test_stored_names_never_pick_where_a_plot_is_written(tmp_path):
    """A device parameter 'x/../../../outside/PWN' (restored or merged) made report write a PNG outside
    the checkout and the history plot unlink a file there: every plot lands in the report folder."""
    from asv_files import write_results

    from bench import report
    from bench.core.text import file_part

    res = tmp_path / "repo" / "results" / "asv"
    hostile = "x/../../../../outside/PWN"
    grid = [["'torch'", "'jax'"], [repr(hostile)], ["128"]]
    for i, commit in enumerate(("a" * 40, "b" * 40)):
        write_results(
            res, "box", commit, 1_700_000_000_000 + i * 3_600_000,
            {"throughput.TrainStep.time_train_step": (grid, [0.01, 0.02], [None, None])},
        )  # fmt: skip
    (tmp_path / "outside").mkdir()
    victim = tmp_path / "outside" / "PWN.png"
    victim.write_text("keep")
    out = tmp_path / "repo" / "results" / "report"
    out.mkdir()
    frame = report.load_results(res)
    written = report.plot_throughput(frame, out) + report.plot_history(frame, out)
    assert written and all(p.parent == out for p in written)
    assert victim.read_text() == "keep" and sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["PWN.png"]
    assert "/" not in file_part(hostile) and ".." not in file_part(hostile) and file_part("box") == "box"
    assert file_part("a/b") != file_part("a-b")


def test_an_answer_says_how_its_rounds_were_taken_by_their_method(tmp_path):
    """Version 3 on, `run` times each framework's process alone: the answer, the header and the README's
    'Measured on' line say '6 rounds, one process at a time'; results of an older method keep 'paired'."""
    import pandas as pd
    from asv_files import BASE, FW, round_row, write_results

    from bench import report
    from bench.report.load import rounds_text
    from bench.store import rounds_file

    res = tmp_path / "results" / "asv"
    train = "throughput.TrainStep.time_train_step"
    write_results(res, "box", BASE, 1_700_000_000_000, {train: (FW, [0.010, 0.020, 0.015], [None] * 3)})
    rows = [
        round_row(fw, train, "128", r, [t * (1 + 0.01 * r)] * 4)
        for r in range(1, 7)
        for fw, t in zip(("torch", "tensorflow", "jax"), (0.010, 0.020, 0.015))
    ]
    rounds_file.save(pd.DataFrame(rows), res, "box", BASE, append=False)
    frame = report.load_results(res).assign(version="3")
    (training,) = report.summary.answer(frame, "box", BASE, "cpu")
    assert "(CPU, 6 rounds, one process at a time, method v3)" in training
    assert "6 rounds, one process at a time" in report.summary.short_header(frame, "box", BASE)
    header = report.tables.header_line(frame, "box", BASE)
    assert "6 rounds, one process at a time (each round a fresh process per framework, each staged" in header
    assert "the mean over rounds of the two processes' log ratio" in header and "alive together" not in header
    assert rounds_text(6, pd.Series(["2", None])) == "6 paired rounds"
    assert rounds_text(6, pd.Series(["2+fixed-malloc", "3"])) == "6 paired rounds"  # two methods: not alone
    assert rounds_text(14, pd.Series(["3"])) == "14 rounds, one process at a time"
    assert rounds_text(6, pd.Series([], dtype=object)) == "6 paired rounds"
