"""`seqmnist-bench`: one small module per command (train.py, run.py, report.py, compare.py, bisect.py,
noise.py, merge.py, history.py, profile.py, open_division.py, settings.py), each adding its parser and its body;
what several share in args.py, `python -m bench.cli` in __main__.py. Bad input anywhere is a RunError (UsageError, DataError,
CorruptFile, ...), caught once here (exit 2), as is a fault of the machine (OSError) or a bug: one line,
never a traceback, because exit 1 means a regression and nothing else."""

from __future__ import annotations

import argparse
import os
import signal
import sys

import impls
from bench.cli import bisect, compare, history, merge, noise, open_division, profile, report, run, settings, train
from bench.cli.args import EPILOG, UsageError, check_environment
from bench.core import frames, interrupts
from bench.core.errors import RunError
from bench.core.text import one_line

__all__ = ["UsageError", "build_parser", "check_environment", "entry", "main"]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line that points at --help instead of the whole usage text."""

    def error(self, message: str):
        self.exit(2, f"error: {one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="seqmnist-bench",
        description="Benchmark the sequential-MNIST LSTM in PyTorch, TensorFlow and JAX.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in (train, run, report, compare, bisect, noise, profile, open_division, settings, merge, history):
        command.add_parser(sub)
    return parser


def _terminate(signum, frame):
    """SIGTERM (timeout, kill, CI cancel) takes the same path as Ctrl-C: stop children, keep what finished."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:

    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if getattr(args, "threads", None):
        os.environ["SEQMNIST_THREADS"] = str(args.threads)

    try:
        check_environment()
        frames.plain_strings()
        return args.func(args)
    except (RunError, impls.FrameworkUnavailable, impls.DeviceUnavailable, impls.UnknownImplementation) as exc:
        print(f"error: {one_line_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the machine's fault (full disk, read-only folder, a program missing): not a verdict
        print(f"error: {os_error_text(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug of the tool: still one line and exit 2, never read as a regression (1)
        if os.environ.get("SEQMNIST_DEBUG"):
            raise
        print(
            f"error: internal error, {type(exc).__name__}: {one_line_message(exc)} (a bug of seqmnist-bench; "
            "SEQMNIST_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 2


def one_line_message(exc: BaseException) -> str:
    """An error's message on one line: its lines joined (git's hints, a worker's tail), escapes shown."""
    return one_line(" | ".join(line.strip() for line in str(exc).splitlines() if line.strip()))


def os_error_text(exc: OSError) -> str:
    """One line naming what failed and where: 'results/x.json: No space left on device'."""
    what = exc.strerror or str(exc)
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
    return f"{where}: {what}" if where else what


def entry() -> None:
    """The `seqmnist-bench` command and `python -m bench.cli`: main's exit status, which a signal in the
    interpreter's last milliseconds cannot turn into a kill."""
    code = main()
    interrupts.ignore_from_now()
    sys.exit(code)


if __name__ == "__main__":
    entry()
