"""`seqmnist-bench report`: read every stored result, then write the tables, plots, README block and page,
and decide the two gates (a regression between two revisions, a change point at the newest commit)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import report
from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import find_root
from bench.core.text import one_line, workflow_data, workflow_property
from bench.store import layout
from bench.store.fingerprint import kept_apart


@dataclass
class ReportOptions:
    results: str | None = None  # results/asv of the checkout holding the current folder
    out: str | None = None  # beside the results: report/
    readme: str | None = None  # None: the checkout's README when the results are its own; "" none
    machine: str | None = None
    base: str | None = None
    head: str | None = None
    threshold: float = 0.05
    fail_on_regression: bool = False
    fail_on_change_point: bool = False
    allow_gone: str | None = None  # a regex on "benchmark(params)": gone at head on purpose
    skip_corrupt: bool = False
    plots: bool = True


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def run_report(opts: ReportOptions) -> int:
    """Every stored file is read before anything is written: an unreadable one is a RunError with nothing
    written, or with `skip_corrupt`, left out (named on the page; the README then stays as it was). The
    exit status: 1 where a gate asked for fails, else 0."""
    results, out, readme = report_paths(opts)
    if not results.is_dir():
        raise RunError(f"no asv results under {results} (no such folder): run `seqmnist-bench run` first")
    frame = report.load_results(results, skip_corrupt=opts.skip_corrupt)
    if frame.empty:
        raise RunError(f"no asv results under {results}: run `seqmnist-bench run` first")
    corrupt = report.Corrupt(opts.skip_corrupt)
    found_settings = report.load_settings(results.parent, corrupt)
    profiles = report.load_profiles(results.parent, corrupt)
    fingerprints = report.load_hosts(results.parents[1], frame.machine.unique(), corrupt)
    skipped = frame.attrs.get("skipped_files", []) + corrupt.skipped
    if opts.machine:
        opts.machine = machine_key(frame, opts.machine)
    revisions = pick(frame, opts)  # bad --base/--head/--machine: refused before anything is written
    changes = report.change_points(frame)
    written, readme_md = _write_tables_and_plots(frame, out, found_settings, changes, profiles, opts.plots)
    written += _refresh_readme(readme, skipped, readme_md)
    _say("wrote " + ", ".join(str(p) for p in written))
    status = max(regression_gate(frame, opts, revisions, out), change_point_gate(changes, opts))
    reports = regression_reports(out, results, revisions)
    page = report.write_page(frame, out, reports, skipped, changes, profiles, fingerprints, found_settings)
    _say(f"results page (open in a browser; self-contained): {page}")
    return status


def _write_tables_and_plots(
    frame, out: Path, found_settings, changes, profiles, plots: bool
) -> tuple[list[Path], str | None]:
    """results.csv, latest.md/.csv and the plots written; the README block's Markdown (None: no full run)."""
    written = report.export_tidy(frame, out)
    latest, readme_md = report.write_latest(frame, out, found_settings)
    written += latest
    if plots:
        written += (
            report.plot_answer(frame, out)
            + report.plot_ratios(frame, out)
            + report.plot_throughput(frame, out)
            + report.plot_history(frame, out, changes)
            + report.plot_scaling(frame, out)
            + report.plot_breakdowns(profiles, out)
        )
    return written, readme_md


def _refresh_readme(readme: Path | None, skipped: list, readme_md: str | None) -> list[Path]:
    """The README's results block from the newest complete full CPU run; never from a partial read."""
    if readme and skipped:
        _say(f"{readme} left as it was: {len(skipped)} stored file(s) skipped as unreadable")
    elif readme and readme_md and report.update_readme(readme, readme_md):
        return [readme]
    elif readme and not readme_md:
        _say(
            f"{readme} left as it was: no complete full CPU run to publish (quick or partial runs are "
            "not published there)"
        )
    return []


def change_point_gate(changes: pd.DataFrame, opts: ReportOptions) -> int:
    """Print the change points; 1 with fail_on_change_point when a newest commit starts a worse step."""
    left_out = changes.attrs.get("left_out", [])
    if opts.machine:
        changes = changes[changes.machine == opts.machine]
    for said in left_out:
        _say(f"change points: left out, its interval too wide to take part: {one_line(said)}")
    for row in changes.itertuples():
        said = f"{row.benchmark}({row.label}) {report.change_text(row)} at {row.before[:8]} -> {row.after[:8]}"
        newest = " (the newest commit)" if row.newest else ""
        _say(f"change point on {one_line(row.machine)}: {one_line(said)}{newest}")
    worse = report.newest_worse(changes)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for row in worse.itertuples():  # a workflow annotation: one line each, names escaped as GitHub expects
            said = f"{row.benchmark}({row.label}) {report.change_text(row)} from {row.after[:8]}"
            print(f"::error title={workflow_property('change point')}::{workflow_data(said)}")
    return 1 if opts.fail_on_change_point and not worse.empty else 0


def machine_key(frame: pd.DataFrame, name: str) -> str:
    """`name`, or when a run on another host under that name was kept apart (`name-<fingerprint id>`),
    the newest such key; RunError when neither has results."""
    if name in set(frame.machine):
        return name
    keyed = frame[frame.machine.str.fullmatch(kept_apart(name))]
    if keyed.empty:
        raise RunError(f"--machine {name!r}: no results for it; have {sorted(set(frame.machine))}")
    key = keyed.loc[keyed.date.idxmax(), "machine"]
    _say(f"--machine {name}: its newest results are kept apart as {key!r} (another host under that name)")
    return key


def report_paths(opts: ReportOptions) -> tuple[Path, Path, Path | None]:
    """(results, out, readme): defaults from the checkout holding the current folder, so it reads and
    writes the same files from any subfolder; the output beside the results otherwise."""
    try:
        root = find_root(Path.cwd())
    except RunError:  # a folder of copied results: results/asv under the current folder
        root = Path.cwd()
    results = Path(opts.results) if opts.results else layout.asv_dir(root)
    out = Path(opts.out) if opts.out else results.parent / "report"
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out}: exists and is not a folder")
    if opts.readme is not None:
        readme = Path(opts.readme) if opts.readme else None
    else:  # the checkout's README describes the checkout's results, not any other folder's
        own = results.resolve() == layout.asv_dir(root).resolve()
        readme = root / "README.md" if own else None
    return results, out, readme


def regression_reports(out: Path, results: Path, revisions) -> list[tuple[str, str]]:
    """(title, Markdown) for the page: the regression report this `report` wrote, and the newest
    paired `compare` report kept beside the results (results/compare/, not tracked by git)."""
    reports = []
    if revisions is not None and (out / "regressions.md").is_file():
        reports.append(("Two runs compared", (out / "regressions.md").read_text()))
    paired = sorted((results.parent / "compare").glob("*/*/regressions.md"), key=lambda p: p.stat().st_mtime)
    if paired:
        reports.append((f"Newest paired comparison ({paired[-1].parent.parent.name})", paired[-1].read_text()))
    return reports


def pick(frame: pd.DataFrame, opts: ReportOptions) -> tuple[str, str, str] | None:
    """(machine, base, head) to compare, None when there is no pair and none was asked for."""
    explicit = bool(opts.base or opts.head or opts.fail_on_regression)
    try:
        machine, base, head = report.pick_revisions(frame, opts.base, opts.head, opts.machine)
    except report.ReportError as exc:
        if explicit:
            raise RunError(str(exc)) from None
        _say(f"no regression report: {exc}")
        return None
    if base == head:
        raise RunError(f"--base and --head are the same commit {head[:8]}: nothing to compare")
    return machine, base, head


def regression_gate(frame: pd.DataFrame, opts: ReportOptions, revisions, out: Path) -> int:
    """Write regressions.md and print the verdicts; 1 with fail_on_regression on a regression or a
    benchmark that fails or is gone at head (report.gate_status)."""
    if revisions is None:
        return 0
    machine, base, head = revisions
    result = report.verdicts_between(frame, machine, base, head, opts.threshold, allow_gone=opts.allow_gone)
    path = out / "regressions.md"
    files.write_text(path, report.render_regressions(result, machine, base, head, opts.threshold))
    counts = result.verdict.value_counts().to_dict()
    print(f"\n{head[:8]} vs {base[:8]} on {machine}: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    flagged = result[result.verdict.isin(["regression", "improvement", "failed"])]
    if not flagged.empty:
        columns = ["verdict", "benchmark", "framework", "device", "batch_size", "ratio", "change"]
        print(flagged[columns].to_string(index=False))
    print(f"full report: {path}")
    return report.gate_status(result, opts.fail_on_regression)
