"""`seqmnist-bench`: one small module per command (train, run, report, compare, noise, merge), each adding
its parser and its body; bad input anywhere is a UsageError, caught once here (exit 2)."""

from __future__ import annotations

import argparse
import os
import sys

from bench.cli import compare, merge, noise, report, run, train
from bench.cli.args import EPILOG, UsageError, check_environment

__all__ = ["UsageError", "build_parser", "check_environment", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqmnist-bench",
        description="Benchmark the sequential-MNIST LSTM in PyTorch, TensorFlow and JAX.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (train, run, report, compare, noise, merge):
        command.add_parser(sub)
    return parser


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
    from bench.workload.data import DataError

    try:
        check_environment()
        return args.func(args)
    except (
        UsageError,
        DataError,
        impls.FrameworkUnavailable,
        impls.DeviceUnavailable,
        impls.UnknownImplementation,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
