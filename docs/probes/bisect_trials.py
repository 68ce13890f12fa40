"""Bisect trials (docs/validation.md, "Bisect"): a throwaway clone of this repository gets a chain of
commits on top of HEAD, as a series of pull requests would arrive: one makes PyTorch's train step 2%
slower, a later one 10% slower still, the rest change comments only. `seqmnist-bench bisect` must name the
10% commit, never the 2% one.

    .venv/bin/python docs/probes/bisect_trials.py 3 16       # trials, commits in the chain

Each trial: a fresh clone, the chain (the 2% at a random commit of the first half, the 10% at a random
commit after it), bisect GOOD=the clone's HEAD before the chain, BAD=its end; prints found / wall time.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEP = "impls/torch_lstm.py"
ANCHOR = "        self.optimizer.zero_grad(set_to_none=True)\n"
RETURN = "        self.optimizer.step()\n        return loss.detach()\n"
GIT = ["git", "-c", "user.name=probe", "-c", "user.email=probe@example.invalid"]


def commit(repo: Path, message: str, edit=None) -> str:
    """A commit of `edit(source)` of the torch step (or a comment line when None); its hash."""
    path = repo / STEP
    source = path.read_text()
    path.write_text(edit(source) if edit else source + f"# {message}\n")
    subprocess.run([*GIT, "commit", "-qam", message], cwd=repo, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def slower(factor: float):
    """The train step made `factor` times as long: it spins for the extra share of its own duration."""

    def edit(source: str) -> str:
        if "planted factor" in source:  # a second slowdown changes the factor of the first
            old = source.split("        _factor = ")[1].split("  # planted factor")[0]
            return source.replace(f"_factor = {old}  # planted factor", f"_factor = {factor}  # planted factor", 1)
        assert ANCHOR in source and RETURN in source
        start = "        _t0 = __import__('time').perf_counter()\n"
        spin = (
            f"        _factor = {factor}  # planted factor\n"
            "        _end = _t0 + (__import__('time').perf_counter() - _t0) * _factor\n"
            "        while __import__('time').perf_counter() < _end:\n"
            "            pass\n"
        )
        return source.replace(ANCHOR, start + ANCHOR, 1).replace(RETURN, "        self.optimizer.step()\n" + spin
                                                                 + "        return loss.detach()\n", 1)  # fmt: skip

    return edit


def planted_chain(repo: Path, n: int, small_at: int, big_at: int, big: float = 0.10) -> list[str]:
    """n commits on top of HEAD: 2% slower at `small_at` (1-based), `big` more at `big_at`; their hashes."""
    hashes = []
    for i in range(1, n + 1):
        if i == small_at:
            hashes.append(commit(repo, f"commit {i}: the step 2% slower", slower(1.02)))
        elif i == big_at:
            hashes.append(commit(repo, f"commit {i}: the step {big:.0%} slower", slower(round(1.02 * (1 + big), 4))))
        else:
            hashes.append(commit(repo, f"commit {i}: a comment"))
    return hashes


def clone(into: Path) -> Path:
    repo = into / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def bisect(repo: Path, good: str, bad: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-m", "bench.cli", "bisect", good, bad, "--frameworks", "torch",
         "--bench", r"^throughput\.TrainStep\.", "--machine", "bisect-probe", *extra],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip


def main(trials: int, n: int) -> None:
    rng = random.Random(0)
    for trial in range(1, trials + 1):
        small_at = rng.randint(1, n // 2 - 1)
        big_at = rng.randint(small_at + 1, n)
        with tempfile.TemporaryDirectory() as tmp:
            repo = clone(Path(tmp))
            good = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
            hashes = planted_chain(repo, n, small_at, big_at)
            t0 = time.monotonic()
            proc = bisect(repo, good, hashes[-1])
            wall = time.monotonic() - t0
        named = next((line for line in proc.stdout.splitlines() if "First bad commit" in line), "")
        right = hashes[big_at - 1][:12] in named
        print(f"trial {trial}: 2% at commit {small_at}, 10% at commit {big_at}; exit {proc.returncode}; "
              f"{'found the 10% commit' if right else 'WRONG: ' + (named or proc.stderr[-300:])}; {wall:.0f} s",
              flush=True)  # fmt: skip
        if trial == 1 or not right:
            print(proc.stdout, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 16)
