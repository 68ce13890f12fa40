"""`seqmnist-bench profile`: where each framework's step time goes, by its own profiler."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.args import Unique, add_threads, host, positive
from bench.core.errors import RunError
from bench.core.repo import find_root
from bench.store import fingerprint
from bench.store.lock import Lock
from bench.tasks import profile
from impls import DEVICES, FRAMEWORKS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "profile",
        help="break one step down (matmul, fused LSTM, gates, optimizer, transfer, framework) per framework",
        description="Profile each framework's train and predict step with its own profiler (torch.profiler, "
        "jax.profiler, the TensorFlow profiler), in a process per framework, and split the step into matmul "
        "kernels, the fused LSTM kernel, gate and elementwise math, the optimizer update, transfers, and the "
        "rest (framework dispatch and Python: the step's time outside every op). Each breakdown is checked "
        "against the step timed without the profiler, and beside it the step's matmuls are timed alone in the "
        "same framework (the reachable ceiling). Stored in results/profiles/<machine>/<commit>.json, shown by "
        "`report`; a trace per step for Perfetto (ui.perfetto.dev) or TensorBoard goes to traces/ beside it.",
    )
    p.add_argument(
        "--frameworks",
        "--framework",
        nargs="+",
        action=Unique,
        default=list(FRAMEWORKS),
        metavar="NAME",
        help="default: all",
    )
    p.add_argument("--variant", default="fused", help="implementation variant (default fused)")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--batch-size", type=positive, nargs="+", default=[32, 128, 1024], help="default 32 128 1024")
    p.add_argument("--mode", choices=("train", "predict", "both"), default="both")
    p.add_argument("--steps", type=positive, default=10, help="steps under the profiler (default 10)")
    p.add_argument("--machine", help="machine name the results go under (default: the host name)")
    add_threads(p)
    p.set_defaults(func=cmd_profile)


def cmd_profile(args: argparse.Namespace) -> int:

    frameworks = list(dict.fromkeys(args.frameworks))
    profile.check_frameworks(frameworks, FRAMEWORKS)
    opts = profile.ProfileOptions(
        frameworks=frameworks,
        variant=args.variant,
        device=args.device,
        batch_sizes=sorted(set(args.batch_size)),
        modes=("train", "predict") if args.mode == "both" else (args.mode,),
        steps=args.steps,
        root=find_root(Path(".")),
        threads=args.threads,
    )
    with Lock(opts.root, "run"):
        machine, fp = host(args, opts.root, claim=False)  # claimed below, once a breakdown is stored
        found, skipped = profile.run(opts, machine, log=lambda m: print(m, file=sys.stderr, flush=True))
        if not found:
            raise RunError("nothing could be profiled: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        path = profile.save(opts.root, machine, found, skipped, fp)
        fingerprint.claim_key(opts.root, machine, fp)
    print(profile.render(found))
    print(f"\nstored: {path.relative_to(opts.root)} (traces: {path.parent.relative_to(opts.root)}/traces/)")
    return 0
