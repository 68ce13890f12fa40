"""`seqmnist-bench report`: tables, plots, the page and regression verdicts from stored results."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench import report
from bench.cli.args import UsageError, add_report_args, regex
from bench.core import files
from bench.core.text import one_line, workflow_data, workflow_property
from bench.store import layout
from bench.store.fingerprint import kept_apart
from bench.tasks.run import RunError, find_root


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="tables, plots and regression verdicts from results/asv",
        description="Write results/report/ (index.html: the self-contained results page; results.csv, latest.md/.csv, PNG plots), refresh the "
        "README's CPU table, and compare two revisions on one machine. Exit status: 1 with "
        "--fail-on-regression when a regression is found or with --fail-on-change-point when the newest commit starts "
        "a worse step, 2 for bad arguments, no results, or a stored "
        "file that cannot be read (named; see --skip-corrupt).",
    )
    add_report_args(p)
    p.add_argument("--no-plots", action="store_true", help="skip the matplotlib plots")
    p.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="publish without the stored files that cannot be read (default: exit 2 naming the first); the page "
        "lists what was skipped and the README is left as it was",
    )
    p.add_argument(
        "--readme",
        help="README whose results markers are refreshed with the newest complete full "
        "CPU run (default: the checkout's README.md when --results is its results/asv; '' to skip)",
    )
    p.add_argument(
        "--fail-on-change-point",
        action="store_true",
        help="exit 1 when the newest commit of a series (of --machine, or of any machine) starts a step the worse "
        "way (main's CI: annotated on GitHub Actions)",
    )
    p.add_argument(
        "--allow-gone",
        metavar="REGEX",
        type=regex,
        help="a benchmark that ran at --base and is skipped or missing at --head fails --fail-on-regression (as "
        "in `compare`) unless this regex on 'benchmark(params)' names it as removed on purpose; one the head's "
        "run did not select (--bench, --quick) is 'not measured' and fails nothing",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:

    results, out, readme = report_paths(args)
    if not results.is_dir():
        raise UsageError(f"no asv results under {results} (no such folder): run `seqmnist-bench run` first")
    # every stored file is read before anything is written: an unreadable one is exit 2 with nothing
    # written, or with --skip-corrupt, skipped (named on the page; the README then stays as it was)
    frame = report.load_results(results, skip_corrupt=args.skip_corrupt)
    if frame.empty:
        raise UsageError(f"no asv results under {results}: run `seqmnist-bench run` first")
    corrupt = report.Corrupt(args.skip_corrupt)
    found_settings = report.load_settings(results.parent, corrupt)
    profiles = report.load_profiles(results.parent, corrupt)
    fingerprints = report.load_hosts(results.parents[1], frame.machine.unique(), corrupt)
    skipped = frame.attrs.get("skipped_files", []) + corrupt.skipped
    if args.machine:
        args.machine = _machine_key(frame, args.machine)
    revisions = _revisions(frame, args)  # bad --base/--head/--machine: refused before anything is written
    written = report.export_tidy(frame, out)
    latest, readme_md = report.write_latest(frame, out, found_settings)
    written += latest
    changes = report.change_points(frame)
    if not args.no_plots:
        written += (
            report.plot_answer(frame, out)
            + report.plot_ratios(frame, out)
            + report.plot_throughput(frame, out)
            + report.plot_history(frame, out, changes)
            + report.plot_scaling(frame, out)
            + report.plot_breakdowns(profiles, out)
        )
    if readme and skipped:
        print(f"{readme} left as it was: {len(skipped)} stored file(s) skipped as unreadable", file=sys.stderr)
    elif readme and readme_md and report.update_readme(readme, readme_md):
        written.append(readme)
    elif readme and not readme_md:
        print(
            f"{readme} left as it was: no complete full CPU run to publish (quick or partial runs are "
            "not published there)",
            file=sys.stderr,
        )
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    status = regression_gate(frame, args, revisions, out)
    status = max(status, change_point_gate(changes, args))
    page = report.write_page(
        frame,
        out,
        _regression_reports(out, results, revisions),
        skipped,
        changes,
        profiles,
        fingerprints,
        found_settings,
    )
    print(f"results page (open in a browser; self-contained): {page}", file=sys.stderr)
    return status


def change_point_gate(changes, args: argparse.Namespace) -> int:
    """Print the change points; 1 with --fail-on-change-point when a newest commit starts a worse step."""

    left_out = changes.attrs.get("left_out", [])
    if args.machine:
        changes = changes[changes.machine == args.machine]
    for said in left_out:
        print(f"change points: left out, its interval too wide to take part: {one_line(said)}", file=sys.stderr)
    for row in changes.itertuples():
        said = f"{row.benchmark}({row.label}) {report.change_text(row)} at {row.before[:8]} -> {row.after[:8]}"
        newest = " (the newest commit)" if row.newest else ""
        print(f"change point on {one_line(row.machine)}: {one_line(said)}{newest}", file=sys.stderr)
    worse = report.newest_worse(changes)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for row in worse.itertuples():  # a workflow annotation: one line each, names escaped as GitHub expects
            said = f"{row.benchmark}({row.label}) {report.change_text(row)} from {row.after[:8]}"
            print(f"::error title={workflow_property('change point')}::{workflow_data(said)}")
    return 1 if args.fail_on_change_point and not worse.empty else 0


def _machine_key(frame, name: str) -> str:
    """`name`, or when a run on another host under that name was kept apart (`name-<fingerprint id>`),
    the newest such key; UsageError when neither has results."""

    if name in set(frame.machine):
        return name
    keyed = frame[frame.machine.str.fullmatch(kept_apart(name))]
    if keyed.empty:
        raise UsageError(f"--machine {name!r}: no results for it; have {sorted(set(frame.machine))}")
    key = keyed.loc[keyed.date.idxmax(), "machine"]
    print(
        f"--machine {name}: its newest results are kept apart as {key!r} (another host under that name)",
        file=sys.stderr,
    )
    return key


def report_paths(args: argparse.Namespace):
    """(results, out, readme) for `report`: defaults from the checkout holding the current folder, so
    it reads and writes the same files from any subfolder; --out beside --results otherwise."""

    try:
        root = find_root(Path.cwd())
    except RunError:  # a folder of copied results: results/asv under the current folder
        root = Path.cwd()
    results = Path(args.results) if args.results else layout.asv_dir(root)
    out = Path(args.out) if args.out else results.parent / "report"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if args.readme is not None:
        readme = Path(args.readme) if args.readme else None
    else:  # the checkout's README describes the checkout's results, not any other folder's
        own = results.resolve() == layout.asv_dir(root).resolve()
        readme = root / "README.md" if own else None
    return results, out, readme


def _regression_reports(out, results, revisions) -> list[tuple[str, str]]:
    """(title, Markdown) for the page: the regression report this `report` wrote, and the newest
    paired `compare` report kept beside the results (results/compare/, not tracked by git)."""
    reports = []
    if revisions is not None and (out / "regressions.md").is_file():
        reports.append(("Two runs compared", (out / "regressions.md").read_text()))
    paired = sorted((results.parent / "compare").glob("*/*/regressions.md"), key=lambda p: p.stat().st_mtime)
    if paired:
        reports.append((f"Newest paired comparison ({paired[-1].parent.parent.name})", paired[-1].read_text()))
    return reports


def _revisions(frame, args: argparse.Namespace):
    """(machine, base, head) to compare, None when there is no pair and none was asked for."""

    explicit = bool(args.base or args.head or args.fail_on_regression)
    try:
        machine, base, head = report.pick_revisions(frame, args.base, args.head, args.machine)
    except report.ReportError as exc:
        if explicit:
            raise UsageError(str(exc)) from None
        print(f"no regression report: {exc}", file=sys.stderr)
        return None
    if base == head:
        raise UsageError(f"--base and --head are the same commit {head[:8]}: nothing to compare")
    return machine, base, head


def regression_gate(frame, args: argparse.Namespace, revisions, out) -> int:
    """Write regressions.md and print the verdicts; 1 with --fail-on-regression on a regression or a
    benchmark that fails at head."""

    if revisions is None:
        return 0
    machine, base, head = revisions
    result = report.verdicts_between(frame, machine, base, head, args.threshold, allow_gone=args.allow_gone)
    path = out / "regressions.md"
    files.write_text(path, report.render_regressions(result, machine, base, head, args.threshold))
    counts = result.verdict.value_counts().to_dict()
    print(f"\n{head[:8]} vs {base[:8]} on {machine}: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    flagged = result[result.verdict.isin(["regression", "improvement", "failed"])]
    if not flagged.empty:
        print(
            flagged[["verdict", "benchmark", "framework", "device", "batch_size", "ratio", "change"]].to_string(
                index=False
            )
        )
    print(f"full report: {path}")
    return report.gate_status(result, args.fail_on_regression)
