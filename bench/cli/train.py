"""`seqmnist-bench train`: train one framework, print test accuracy and samples/s."""

from __future__ import annotations

import argparse
import sys

import impls
from bench.cli.args import UsageError, add_data_dir, add_threads, positive, seed
from bench.workload.data import load_mnist
from bench.workload.train import train
from impls import DEVICES, FRAMEWORKS, PRECISIONS, SEQUENCES
from impls.config import EPOCHS


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train one framework and report test accuracy and samples/s")
    p.add_argument("--framework", required=True, choices=FRAMEWORKS)
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--epochs", type=positive, default=EPOCHS)
    p.add_argument("--batch-size", type=positive, default=128)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument(
        "--sequence",
        default="row",
        choices=tuple(SEQUENCES),
        help="row: 28 steps x 28 pixels (default); pixel: 784 x 1; permuted: pixel, fixed shuffle",
    )
    p.add_argument(
        "--variant",
        default="fused",
        help="implementation: fused (library LSTM, default), cell (per-step loop), "
        "compile (torch.compile), xla (tf.function jit_compile)",
    )
    p.add_argument(
        "--precision",
        default="float32",
        choices=PRECISIONS,
        help="float32 (default); tf32: TF32 matmuls (Ampere+ GPU only); bf16: bfloat16 mixed "
        "precision with float32 master weights",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs and CI)")
    add_data_dir(p)
    add_threads(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:

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
    model = model_cls(
        impls.sequence_config(args.sequence), device=args.device, seed=args.seed, precision=args.precision
    )
    result = train(
        model,
        data,
        args.epochs,
        args.batch_size,
        args.seed,
        sequence=args.sequence,
        progress=not args.no_progress,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    label = f"{args.framework}/{args.variant} {args.device} {args.precision} ({args.sequence} sequence)"
    print(
        f"{label}: test accuracy {result.test_accuracy:.4f} after {args.epochs} epoch(s), "
        f"{result.samples_per_second:,.0f} training samples/s ({result.train_seconds:.1f} s training)"
    )
    return 0
