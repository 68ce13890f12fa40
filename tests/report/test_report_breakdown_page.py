"""The page's "where the time goes" table and stacked bars (from a stored `profile`) and the closed and
open division table (from paired variant rounds), as `report` writes them and Chromium shows them."""

from __future__ import annotations

import json
import random

import pytest
from asv_files import BASE, write_results
from conftest import cli
from test_report_open_division import VAR, _rounds
from test_report_page import CHROMIUM, Page, chromium

from bench.store import rounds_file
from bench.workload.breakdown import CATEGORIES

GRID = [["'torch'", "'jax'"], ["'cpu'"], ["'fused'", "'cell'", "'compile'"]]


def _breakdown(framework: str, ms: list[float], step_ms: float) -> dict:
    return {
        "framework": framework,
        "variant": "fused",
        "device": "cpu",
        "mode": "train",
        "batch_size": 128,
        "step_seconds": step_ms / 1e3,
        "profiled_seconds": sum(ms) / 1e3,
        "categories": {c: v / 1e3 for c, v in zip(CATEGORIES, ms)},
        "ceiling_seconds": 0.004,
        "top_ops": [],
        "trace": f"{framework}-fused-cpu-train-128",
    }


@pytest.fixture
def page(tmp_path):
    res = tmp_path / "results" / "asv"
    values = [0.010, 0.015, 0.008, 0.015, 0.015, None]
    write_results(res, "box", BASE, 1_700_000_000_000, {VAR: (GRID, values, [None] * 6)})
    rounds_file.save(_rounds(random.Random(1)), res, "box", BASE, append=False)
    profiles = tmp_path / "results" / "profiles" / "box"
    profiles.mkdir(parents=True)
    stored = {
        "machine": "box",
        "commit": BASE,
        "fingerprint": {},
        "breakdowns": [
            _breakdown("torch", [0.0, 6.1, 1.2, 1.3, 0.0, 1.4], 10.0),
            _breakdown("jax", [7.3, 0.0, 4.4, 0.9, 0.0, 2.2], 15.0),
        ],
        "skipped": {},
    }
    (profiles / f"{BASE[:8]}.json").write_text(json.dumps(stored))
    proc = cli("report", "--readme", "", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "results" / "report" / "index.html"


def test_the_page_holds_the_breakdown_and_the_open_division(page):
    html = page.read_text()
    parsed = Page(html)
    breakdown = next(t for t in parsed.tables if any("fused LSTM kernel" in c[1] for c in t[0]))
    torch = next(r for r in breakdown if r and r[0][1] == "torch")
    assert "6.10" in [c[1] for c in torch]  # the fused kernel's milliseconds
    assert (page.parent / "breakdown_box.png").is_file()
    assert "stacked bars" in html
    division = next(t for t in parsed.tables if any("open / closed" in c[1] for c in t[0]))
    texts = {r[0][1]: [c[1] for c in r] for r in division[1:] if r}
    assert "compile" in texts["torch"] and "1.00x (closed kept)" in texts["jax"]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)")
def test_the_breakdown_and_open_division_show_in_the_browser(page):
    dom = chromium("--window-size=1400,1000", "--dump-dom", page.as_uri()).stdout
    assert "Where a train step" in dom and "closed and open division" in dom
    assert "framework &amp; Python" in dom and "1.00x (closed kept)" in dom
    assert 'alt="stacked bars' in dom


def _store(folder, commit: str, saved: str, breakdowns: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"machine": "box", "commit": commit, "saved": saved, "breakdowns": breakdowns, "skipped": {}}
    (folder / f"{commit}.json").write_text(json.dumps(data))


def test_the_newest_saved_profile_is_shown_whatever_the_files_times(tmp_path):
    """A fresh clone gives every stored file the same modification time: the row saved last wins."""
    import os

    from bench.report import breakdown_table, load_profiles

    folder = tmp_path / "profiles" / "box"
    for name, saved, step_ms in (
        ("aaaaaaaa", "2026-12-02T10:00:00+00:00", 12.0),
        ("bbbbbbbb", "2026-12-01T10:00:00+00:00", 20.0),
    ):
        _store(folder, name, saved, [_breakdown("torch", [0.0, 6.0, 1.0, 1.0, 0.0, 1.0], step_ms)])
        os.utime(folder / f"{name}.json", (0, 1_000_000_000 if name == "aaaaaaaa" else 2_000_000_000))
    profile = load_profiles(tmp_path)["box"]
    assert profile["commit"] == "aaaaaaaa" and profile["commits"] == ["aaaaaaaa"]
    assert breakdown_table(profile).at["torch", "step ms (no profiler)"] == "12.00"


def test_a_later_profile_of_one_row_keeps_the_machines_other_rows(tmp_path):
    """`profile --frameworks jax --variant cell` at a later commit adds a row: the page keeps the earlier
    full profile's rows beside it and says which commit each row was profiled at."""
    from bench.report import breakdown_table, load_profiles

    folder = tmp_path / "profiles" / "box"
    full = [
        _breakdown("torch", [0.0, 6.1, 1.2, 1.3, 0.0, 1.4], 10.0),
        _breakdown("jax", [7.3, 0.0, 4.4, 0.9, 0.0, 2.2], 15.0),
    ]
    _store(folder, "aaaaaaaa", "2026-12-01T10:00:00+00:00", full)
    _store(folder, "bbbbbbbb", "2026-12-02T10:00:00+00:00", [{**full[1], "variant": "cell", "step_seconds": 0.02}])
    profile = load_profiles(tmp_path)["box"]
    table = breakdown_table(profile)
    assert list(table.index) == ["jax", "jax (cell)", "torch"]  # each closed row first
    assert table["commit"].to_dict() == {"jax": "aaaaaaaa", "jax (cell)": "bbbbbbbb", "torch": "aaaaaaaa"}
    assert profile["commits"] == ["aaaaaaaa", "bbbbbbbb"]
