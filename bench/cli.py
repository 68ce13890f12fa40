"""`seqmnist-bench`: train one framework, run the asv suite, report, and compare revisions."""
from __future__ import annotations

import argparse
import os
import sys

from impls import DEVICES, FRAMEWORKS, PRECISIONS, SEQUENCES
from impls.config import ACCURACY_SEEDS, EPOCHS, QUICK_EPOCHS, SEQUENCE_EPOCHS
from impls.threads import usable_cores

MIN_ROUNDS = 6  # bench.stats.MIN_ROUNDS (not imported here: the CLI starts without numpy)

EPILOG = """examples:
  seqmnist-bench train --framework torch --epochs 5 --data-dir ../shared/data/mnist
  seqmnist-bench run --quick
  seqmnist-bench report
  seqmnist-bench compare main HEAD --frameworks torch
  seqmnist-bench noise --frameworks torch --rounds 10

environment:
  SEQMNIST_DATA_DIR         MNIST folder (as --data-dir)
  SEQMNIST_THREADS          CPU threads per framework (as --threads)
  SEQMNIST_ACCURACY_EPOCHS  epochs of the accuracy and precision-accuracy benchmarks (default {EPOCHS}; {QUICK_EPOCHS} with --quick)
  SEQMNIST_SEQUENCE_EPOCHS  epochs of the 784-step pixel/permuted accuracy benchmarks (default {SEQUENCE_EPOCHS})
  SEQMNIST_ACCURACY_SEEDS   seeds behind each accuracy of the accuracy suite (default {ACCURACY_SEEDS}; 1 with --quick)

exit status:
  0    done (run: every benchmark ran; compare: no regression and nothing failed at HEAD)
  1    run: a benchmark failed; compare: a regression, or a benchmark that fails at HEAD;
       report --fail-on-regression: a regression or a failure at the head revision
  2    bad input: arguments, environment variables, data, revisions, nothing to measure, or
       another run/compare/noise already working in this checkout (its lock)
  130  interrupted (Ctrl-C or SIGTERM); what finished is kept and named
"""
EPILOG = EPILOG.format(EPOCHS=EPOCHS, QUICK_EPOCHS=QUICK_EPOCHS, SEQUENCE_EPOCHS=SEQUENCE_EPOCHS,
                       ACCURACY_SEEDS=ACCURACY_SEEDS)
EPOCH_VARIABLES = ("SEQMNIST_ACCURACY_EPOCHS", "SEQMNIST_SEQUENCE_EPOCHS", "SEQMNIST_ACCURACY_SEEDS")


class UsageError(Exception):
    """Bad arguments or state the user can fix: printed without a traceback, exit status 2."""


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        help="folder with the four MNIST IDX files (.gz or raw); default $SEQMNIST_DATA_DIR, "
        "else ~/.cache/seqmnist-bench/mnist (downloaded when online)",
    )


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=_threads, help="CPU threads for every framework, at most the cores this "
                   "process may use (default: all of them)")


def _number(text: str, kind=int):
    """int(text) or float(text), or an argparse error that says what was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None


def _positive(text: str) -> int:
    value = _number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _threads(text: str) -> int:
    value = _positive(text)
    if value > usable_cores():
        raise argparse.ArgumentTypeError(f"{value} threads but this process may use {usable_cores()} core(s): "
                                         "more threads than cores measures contention, not the frameworks")
    return value


def _seed(text: str) -> int:
    value = _number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in 0..{2**32 - 1} (every framework's seed range), got {value}")
    return value


def _regex(text: str) -> str:
    import re

    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({exc})") from None
    return text


def check_environment() -> None:
    """The SEQMNIST_* variables the benchmarks read, checked before anything starts."""
    for name in EPOCH_VARIABLES + ("SEQMNIST_THREADS",):
        text = os.environ.get(name, "").strip()
        if not text:
            continue
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise UsageError(f"{name}={text!r}: must be a positive integer")
        if name == "SEQMNIST_THREADS" and value > usable_cores():
            raise UsageError(f"SEQMNIST_THREADS={value}: more than the {usable_cores()} core(s) this process may use")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqmnist-bench",
        description="Benchmark the sequential-MNIST LSTM in PyTorch, TensorFlow and JAX.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train one framework and report test accuracy and samples/s")
    p.add_argument("--framework", required=True, choices=FRAMEWORKS)
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--epochs", type=_positive, default=EPOCHS)
    p.add_argument("--batch-size", type=_positive, default=128)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--sequence", default="row", choices=tuple(SEQUENCES),
                   help="row: 28 steps x 28 pixels (default); pixel: 784 x 1; permuted: pixel, fixed shuffle")
    p.add_argument("--variant", default="fused",
                   help="implementation: fused (library LSTM, default), cell (per-step loop), "
                   "compile (torch.compile), xla (tf.function jit_compile)")
    p.add_argument("--precision", default="float32", choices=PRECISIONS,
                   help="float32 (default); tf32: TF32 matmuls (Ampere+ GPU only); bf16: bfloat16 mixed "
                   "precision with float32 master weights")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs and CI)")
    _add_data_dir(p)
    _add_threads(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "run",
        help="run the asv suite for every available framework and device, then print the table",
        description="Measure throughput, cold start, memory and accuracy with asv. Results go to "
        "results/asv/<machine>/, run metadata to results/meta/<machine>/. A run adds to what is stored for "
        "this commit: a full run adds its processes to an earlier full run's, a quick run never replaces a "
        "full result, and each stored benchmark names the run that measured it. One run, compare or noise "
        "at a time per checkout. Exit status: 0 every benchmark ran, 1 a benchmark failed, 2 bad input "
        "(or another command holds the checkout), 130 interrupted (what finished is kept).",
    )
    _add_measure_args(p)
    p.add_argument("--rounds", "--processes", dest="processes", type=_non_negative, default=None, metavar="N",
                   help="paired rounds behind each throughput cell: each round starts one fresh process per framework, "
                   "all alive together, and alternates their samples; every ratio to torch comes from its per-round "
                   f"pairs. Default: adaptive, from {MIN_ROUNDS} rounds until the widths below are met; N: exactly N "
                   "rounds; 0: asv's single process per cell, no rounds and no ratios")
    p.add_argument("--max-rounds", type=_positive, default=40,
                   help="adaptive rounds stop once every ratio's 95%% interval is within ±3%% (±8%% with --quick) and "
                   "every cell's within ±10%%, at this many rounds, or at --budget (default 40)")
    p.add_argument("--budget", type=_positive_float, default=None,
                   help="seconds of paired rounds before stopping with the widths reached (default 2400; 240 with "
                   "--quick); the table says which intervals are wider than their target")
    p.add_argument("--show-stderr", action="store_true", help="show benchmark output (asv --show-stderr)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "report",
        help="tables, plots and regression verdicts from results/asv",
        description="Write results/report/ (index.html: the self-contained results page; results.csv, latest.md/.csv, PNG plots), refresh the "
        "README's CPU table, and compare two revisions on one machine. Exit status: 1 with "
        "--fail-on-regression when a regression is found, 2 for bad arguments or no results.",
    )
    _add_report_args(p)
    p.add_argument("--no-plots", action="store_true", help="skip the matplotlib plots")
    p.add_argument("--readme", help="README whose results markers are refreshed with the newest complete full "
                   "CPU run (default: the checkout's README.md when --results is its results/asv; '' to skip)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "compare",
        help="measure two commits here in paired rounds, then give verdicts (exit 1 on a regression)",
        description="Check out BASE and HEAD in git worktrees and measure them in paired rounds: each round "
        "starts fresh base and head processes (random order) that alternate sample by sample, so drift of "
        "the machine hits both. Verdicts come from the per-round head/base ratios: a regression is a "
        "change whose whole 95% interval lies beyond --threshold. Rounds stop once every benchmark is "
        "decided, or at --budget. Writes results/compare/<machine>/<base>-<head>/ (not tracked by git). "
        "Exit status: 1 on a regression or a benchmark that fails at HEAD, 0 otherwise, 2 for bad "
        "arguments (unknown revision, no benchmark).",
    )
    p.add_argument("base", help="base revision (branch, tag or hash)")
    p.add_argument("head", help="head revision")
    _add_paired_args(p)
    p.add_argument("--budget", type=_positive_float, default=300.0,
                   help="seconds of rounds per framework and device before deciding with what there is (default 300)")
    p.add_argument("--min-rounds", type=_positive, default=None,
                   help="rounds before stopping early (default: what this host's noise check says a 10%% change "
                   f"needs, at least {MIN_ROUNDS})")
    p.add_argument("--max-rounds", type=_positive, default=60, help="upper bound on rounds (default 60)")
    p.add_argument("--rounds", type=_positive, help="exactly this many rounds (no early stop)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "noise",
        help="A/A check of this machine: noise per benchmark, smallest detectable change, rounds needed",
        description="Compare the current commit with itself in paired rounds (as `compare` measures) and "
        "report each benchmark's paired noise, the smallest change compare can detect here, and the rounds a "
        "10% or 5% change needs. Stored in results/meta/<machine>/noise.json, which compare reads to "
        "choose its rounds on the same host.",
    )
    _add_paired_args(p)
    p.add_argument("--rounds", type=_positive, default=10, help="paired rounds (default 10)")
    p.set_defaults(func=cmd_noise)

    p = sub.add_parser(
        "merge",
        help="bring other runners' results (CI artifacts) into this results folder, one machine name per host",
        description="Copy results/asv/<machine>/ and results/meta/<machine>/ from each DIR (a results folder, "
        "or a folder holding results/) into --into, so that one `report` covers every machine. Refused, with "
        "nothing written, when a machine name would hold two hosts (fingerprints differ, or one side has "
        "none) or when a stored file would be overwritten by different bytes. Exit status: 0 merged, 2 refused.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="results folders to merge from")
    p.add_argument("--into", help="results folder to merge into (default: this checkout's results/)")
    p.set_defaults(func=cmd_merge)
    return parser


def _add_measure_args(p: argparse.ArgumentParser) -> None:
    """What `run` and `compare` measure, and where the results are stored."""
    p.add_argument("--quick", action="store_true",
                   help="one sample per benchmark (per round), 1-epoch accuracy, no heavy variants (minutes)")
    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--devices", nargs="+", choices=DEVICES, default=list(DEVICES))
    p.add_argument("--bench", metavar="REGEX", type=_regex,
                   help="only benchmarks whose asv name matches, e.g. 'TrainStep' (none matching: exit 2)")
    p.add_argument("--machine", help="machine name the results are stored under (default: host name)")
    _add_data_dir(p)
    _add_threads(p)


def _add_paired_args(p: argparse.ArgumentParser) -> None:
    """What `compare` and `noise` measure."""
    from .compare import DEFAULT_BENCH

    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--devices", nargs="+", choices=DEVICES, default=["cpu"],
                   help="devices to measure (default cpu; add gpu on a GPU machine)")
    p.add_argument("--bench", metavar="REGEX", default=DEFAULT_BENCH, type=_regex,
                   help=f"asv time benchmarks to measure, by full name (default {DEFAULT_BENCH!r})")
    p.add_argument("--threshold", type=_fraction, default=0.03,
                   help="smallest change a verdict calls: the interval must lie wholly beyond it (default 0.03)")
    p.add_argument("--machine", help="machine name the results are kept under (default: host name)")
    p.add_argument("--seed", type=_seed, default=None, help="seed of the random side order (default: from the clock)")
    _add_threads(p)


def _non_negative(text: str) -> int:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _run_options(args: argparse.Namespace, **extra):
    """RunOptions from the arguments _add_measure_args defined."""
    from .runner import RunOptions

    return RunOptions(
        quick=args.quick, frameworks=tuple(args.frameworks), devices=tuple(args.devices), bench=args.bench,
        machine=args.machine, data_dir=args.data_dir, threads=args.threads, **extra,
    )


def _fraction(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _add_threshold(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=_fraction, default=0.10,
                   help="relative change that counts as a regression or improvement (default 0.10)")


def _add_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", help="asv results folder (default: results/asv of the checkout holding the "
                   "current folder)")
    p.add_argument("--out", help="report folder (default: 'report' beside the results folder, i.e. results/report)")
    p.add_argument("--base", help="base revision (default: the previous commit with results on the machine)")
    p.add_argument("--head", help="head revision (default: the newest commit with results on the machine)")
    p.add_argument("--machine", help="machine to compare on (required when results hold several)")
    _add_threshold(p)
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 when any regression is found")


def cmd_train(args: argparse.Namespace) -> int:
    import impls
    from .data import load_mnist
    from .train import train

    model_cls = impls.load(args.framework, args.variant)  # bad names fail before any data is read
    reason = model_cls.unavailable(args.device, args.precision)
    if reason:
        raise UsageError(reason)
    data = load_mnist(args.data_dir)
    if args.batch_size > len(data.train_x):
        raise UsageError(f"--batch-size {args.batch_size} is larger than the {len(data.train_x)} training images")
    print(data.describe(), file=sys.stderr)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    model = model_cls(impls.sequence_config(args.sequence), device=args.device, seed=args.seed,
                      precision=args.precision)
    result = train(
        model, data, args.epochs, args.batch_size, args.seed, sequence=args.sequence,
        progress=not args.no_progress, log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    label = f"{args.framework}/{args.variant} {args.device} {args.precision} ({args.sequence} sequence)"
    print(
        f"{label}: test accuracy {result.test_accuracy:.4f} after {args.epochs} epoch(s), "
        f"{result.samples_per_second:,.0f} training samples/s ({result.train_seconds:.1f} s training)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import RunError, run_suite

    try:
        summary = run_suite(_run_options(args, show_stderr=args.show_stderr, processes=args.processes,
                                         max_rounds=args.max_rounds, budget=args.budget))
    except RunError as exc:
        raise UsageError(str(exc)) from None
    _print_summary_table(summary.root, summary.machine)
    if summary.chunks_failed:
        print(f"some benchmarks failed in: {', '.join(summary.chunks_failed)} (see asv output above)", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.chunks_failed else 0


def _print_summary_table(root, machine: str) -> None:
    """The comparison table of the newest results on `machine` (the report's summary)."""
    from .report import latest_tables, load_results

    frame = load_results(root / "results" / "asv")
    for key, table in latest_tables(frame, machine=machine).items():
        print(f"\n## {key}\n")
        print(table)


def report_paths(args: argparse.Namespace):
    """(results, out, readme) for `report`: defaults from the checkout holding the current folder, so
    it reads and writes the same files from any subfolder; --out beside --results otherwise."""
    from pathlib import Path

    from .runner import RunError, find_root

    try:
        root = find_root(Path.cwd())
    except RunError:  # a folder of copied results: results/asv under the current folder
        root = Path.cwd()
    results = Path(args.results) if args.results else root / "results" / "asv"
    out = Path(args.out) if args.out else results.parent / "report"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if args.readme is not None:
        readme = Path(args.readme) if args.readme else None
    else:  # the checkout's README describes the checkout's results, not any other folder's
        own = results.resolve() == (root / "results" / "asv").resolve()
        readme = root / "README.md" if own else None
    return results, out, readme


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    results, out, readme = report_paths(args)
    if not results.is_dir():
        raise UsageError(f"no asv results under {results} (no such folder): run `seqmnist-bench run` first")
    frame = report.load_results(results)
    if frame.empty:
        raise UsageError(f"no asv results under {results}: run `seqmnist-bench run` first")
    revisions = _revisions(frame, args)  # bad --base/--head/--machine: refused before anything is written
    written = report.export_tidy(frame, out)
    latest, readme_md = report.write_latest(frame, out)
    written += latest
    if not args.no_plots:
        written += (report.plot_ratios(frame, out) + report.plot_throughput(frame, out) + report.plot_history(frame, out)
                    + report.plot_scaling(frame, out))
    if readme and readme_md and report.update_readme(readme, readme_md):
        written.append(readme)
    elif readme and not readme_md:
        print(f"{readme} left as it was: no complete full CPU run to publish (quick or partial runs are "
              "not published there)", file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    status = regression_gate(frame, args, revisions, out)
    page = report.write_page(frame, out, _regression_reports(out, results, revisions))
    print(f"results page (open in a browser; self-contained): {page}", file=sys.stderr)
    return status


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
    from . import report

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
    from . import report

    if revisions is None:
        return 0
    machine, base, head = revisions
    result = report.compare(frame, machine, base, head, args.threshold)
    path = out / "regressions.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render_regressions(result, machine, base, head, args.threshold))
    counts = result.verdict.value_counts().to_dict()
    print(f"\n{head[:8]} vs {base[:8]} on {machine}: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    flagged = result[result.verdict.isin(["regression", "improvement", "failed"])]
    if not flagged.empty:
        print(flagged[["verdict", "benchmark", "framework", "device", "batch_size", "ratio", "change"]]
              .to_string(index=False))
    print(f"full report: {path}")
    bad = int(counts.get("regression", 0)) + int(counts.get("failed", 0))
    return 1 if bad and args.fail_on_regression else 0


def _paired_options(args: argparse.Namespace, **extra):
    import time
    from pathlib import Path

    from .compare import CompareOptions
    from .runner import find_root

    return CompareOptions(
        base=getattr(args, "base", "HEAD"), head=getattr(args, "head", "HEAD"), frameworks=tuple(args.frameworks),
        devices=tuple(args.devices), bench=args.bench, threshold=args.threshold, threads=args.threads,
        seed=args.seed if args.seed is not None else int(time.time()), root=find_root(Path.cwd()), **extra,
    )


def _host(args: argparse.Namespace, root) -> tuple[str, dict]:
    """(machine key, fingerprint) for results measured here (runner.identify_host, as `run`)."""
    from .runner import identify_host

    key, fp, _ = identify_host(root, args.machine, args.threads, log=lambda m: print(m, file=sys.stderr))
    return key, fp


def cmd_compare(args: argparse.Namespace) -> int:
    from . import compare, noise
    from .lock import Lock
    from .runner import RunError

    try:
        opts = _paired_options(args, budget=args.budget, max_rounds=args.max_rounds)
        machine, fp = _host(args, opts.root)
        if args.rounds:
            opts.min_rounds = opts.max_rounds = args.rounds
            opts.budget = float("inf")
        elif args.min_rounds:
            opts.min_rounds = min(args.min_rounds, opts.max_rounds)
        else:
            need, why = noise.min_rounds_for(opts.root, machine, fp["id"], opts.frameworks, 0.10, opts.threshold)
            if need and need > 0:
                opts.min_rounds = max(compare.stats.MIN_ROUNDS, min(need, opts.max_rounds))
            print(f"min rounds {opts.min_rounds}: {why}", file=sys.stderr)
        with Lock(opts.root, "compare"):
            result = compare.measure(opts)
            out = compare.store_dir(opts.root, machine, result.base, result.head)
            compare.save(result, out, machine, opts, fp)
    except RunError as exc:
        raise UsageError(str(exc)) from None
    v = result.verdicts
    counts = v.verdict.value_counts().to_dict()
    print(f"\n{result.head[:8]} vs {result.base[:8]} on {machine}: "
          + (", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing comparable"))
    if not v.empty:
        shown = v.assign(change=[compare.outcome(c, r) for c, r in zip(v.change, v.reason)])
        print(shown[["verdict", "benchmark", "params", "change"]].to_string(index=False))
    print(f"full report: {out / 'regressions.md'}")
    return 1 if counts.get("regression") or counts.get("failed") else 0


def cmd_noise(args: argparse.Namespace) -> int:
    from . import compare, noise
    from .lock import Lock
    from .runner import RunError

    try:
        opts = _paired_options(args)
        machine, fp = _host(args, opts.root)
        with Lock(opts.root, "noise"):
            table, walls, comparison = noise.run(opts, args.rounds)
            path = noise.save(opts.root, machine, table, walls, opts, fp)
            rounds_dir = compare.store_dir(opts.root, machine, comparison.base, comparison.head)
            compare.save(comparison, rounds_dir, machine, opts, fp)  # every round, for a second look
    except RunError as exc:
        raise UsageError(str(exc)) from None
    print(noise.render(table, opts, args.rounds))
    print("\nwall time: " + ", ".join(f"{k} {s:.0f} s" for k, s in walls.items()))
    print(f"stored: {path}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    import contextlib
    from pathlib import Path

    from . import merge
    from .lock import Lock
    from .runner import RunError, find_root

    try:
        into = Path(args.into) if args.into else find_root(Path.cwd()) / "results"
        sources = [Path(d) for d in args.dirs]
        for source in sources:
            if not source.is_dir():
                raise UsageError(f"{source}: no such folder")
        into.mkdir(parents=True, exist_ok=True)
        with Lock(into.parent, "merge") if into.name == "results" else contextlib.nullcontext():
            plan = merge.plan(sources, into)
            merge.apply(plan, into)
    except (merge.MergeError, RunError) as exc:
        raise UsageError(str(exc)) from None
    added = ", ".join(f"{m}: {n} result file(s)" for m, n in sorted(plan.machines.items())) or "no new results"
    print(f"merged into {into}: {added}; {len(plan.copies)} file(s) copied, {plan.same} already there")
    return 0


def _terminate(signum, frame):
    """SIGTERM (timeout, kill, CI cancel) takes the same path as Ctrl-C: stop children, keep what finished."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if getattr(args, "threads", None):
        os.environ["SEQMNIST_THREADS"] = str(args.threads)
    import impls
    from .data import DataError

    try:
        check_environment()
        return args.func(args)
    except (UsageError, DataError, impls.FrameworkUnavailable, impls.DeviceUnavailable,
            impls.UnknownImplementation) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
