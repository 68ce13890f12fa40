"""`seqmnist-bench open-division` end to end over a faked measurement: it prints the closed and open
rows, and profiles each open row that differs from its closed row, stored beside the closed rows'
breakdowns and shown on the page as "framework (variant)"."""

from __future__ import annotations

import json
import random
import subprocess

from asv_files import write_results
from report.test_report_open_division import GRID, TRUTH, VAR, _rounds  # tests/report/, a namespace package

from bench import report
from bench.cli import main
from bench.store import rounds_file
from bench.tasks import profile
from bench.tasks.run import RunSummary


def _checkout(tmp_path) -> str:
    (tmp_path / "asv.conf.json").write_text("{}")
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()


def _breakdown(framework: str, variant: str, batch: int) -> dict:
    return {
        "framework": framework,
        "variant": variant,
        "device": "cpu",
        "mode": "train",
        "batch_size": batch,
        "step_seconds": 0.008,
        "profiled_seconds": 0.0082,
        "categories": {"matmul": 0.005, "gates & elementwise": 0.003},
        "ceiling_seconds": 0.005,
    }


def test_open_rows_are_measured_chosen_and_profiled(tmp_path, monkeypatch, capsys):
    commit = _checkout(tmp_path)
    res = tmp_path / "results" / "asv"
    values = [TRUTH.get((fw, v)) for fw in ("torch", "jax") for v in ("fused", "cell", "compile")]
    write_results(res, "box", commit, 1_700_000_000_000, {VAR: (GRID, values, [None] * len(values))})
    rounds = _rounds(random.Random(1)).assign(commit=commit)
    rounds_file.save(rounds, res, "box", commit, append=False)
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / "fingerprint.json").write_text(json.dumps({"id": "f"}))
    summary = RunSummary(tmp_path, "box", commit, ["torch", "jax"], [], {})
    monkeypatch.setattr("bench.tasks.run.run_suite", lambda opts: summary)
    asked = []

    def fake_profile(opts, machine, log=print):
        asked.append((opts.frameworks, opts.variant, opts.device, machine))
        return [_breakdown(f, opts.variant, b) for f in opts.frameworks for b in opts.batch_sizes], {}

    monkeypatch.setattr(profile, "run", fake_profile)
    assert main(["open-division", "--frameworks", "torch", "jax", "--machine", "box"]) == 0
    out = capsys.readouterr().out
    assert "closed and open division" in out and "compile" in out
    assert asked == [(["torch"], "compile", "cpu", "box")]  # jax kept its closed row: nothing to profile
    stored = json.loads((tmp_path / "results" / "profiles" / "box" / f"{commit[:8]}.json").read_text())
    assert {(b["framework"], b["variant"], b["batch_size"]) for b in stored["breakdowns"]} == {
        ("torch", "compile", 32),
        ("torch", "compile", 128),
        ("torch", "compile", 1024),
    }
    table = report.breakdown_table(report.load_profiles(tmp_path / "results")["box"])
    assert list(table.index) == ["torch (compile)"]

    asked.clear()
    assert main(["open-division", "--frameworks", "torch", "jax", "--machine", "box", "--no-profile"]) == 0
    assert asked == []
