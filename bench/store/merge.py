"""`seqmnist-bench merge DIR...`: bring other runners' results (CI artifacts: results/asv/<machine>/,
results/meta/<machine>/ and the paired rounds in results/rounds/<machine>/) into one results folder, so
one report and one page cover every machine.

A machine name stands for one host: a source whose fingerprint differs from the one stored under that
name (or that cannot show one where results are already stored) is refused. A stored file is never
overwritten: the same bytes are skipped, different bytes refuse the merge. Everything is checked before
anything is written, so a refused merge leaves the destination as it was.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


class MergeError(Exception):
    """A merge that would mix two hosts or overwrite a result: exit status 2, nothing written."""


@dataclass
class Plan:
    copies: dict[Path, Path] = field(default_factory=dict)  # destination -> source
    same: int = 0  # files already there with the same bytes
    benchmarks: dict = field(default_factory=dict)  # asv benchmarks.json entries the destination lacks
    machines: dict[str, int] = field(default_factory=dict)  # machine -> results files added


def results_root(folder: Path) -> Path:
    """The folder holding asv/ and meta/: the folder itself, or its results/ (a checkout or an artifact)."""
    for candidate in (folder, folder / "results"):
        if (candidate / "asv").is_dir():
            return candidate
    raise MergeError(f"{folder}: no asv/ or results/asv/ folder here: not a results folder")


def plan(sources: list[Path], into: Path) -> Plan:
    """What merging `sources` into the results folder `into` (holding asv/ and meta/) would copy."""
    out = Plan()
    fingerprints: dict[str, tuple[dict | None, str]] = {}  # machine -> (fingerprint, where it came from)
    for source in sources:
        root = results_root(source)
        if root.resolve() == into.resolve():
            raise MergeError(f"{source}: is the destination itself")
        for machine_dir in sorted(p for p in (root / "asv").iterdir() if p.is_dir()):
            machine = machine_dir.name
            files = [
                (src, into / sub / machine / src.name)
                for sub, pattern in (("asv", "*.json"), ("meta", "*.json"), ("rounds", "*.csv"))
                for src in sorted((root / sub / machine).glob(pattern))
            ]
            if all(_same(out, src, dest) for src, dest in files):
                out.same += len(files)  # nothing new for this machine (a clone of the destination, say)
                continue
            _check_host(machine, root, into, fingerprints, out)
            for src, dest in files:
                _add(out, src, dest, machine)
        _add_benchmarks(out, root / "asv" / "benchmarks.json", into / "asv" / "benchmarks.json")
    return out


def _fingerprint(root: Path, machine: str) -> dict | None:
    path = root / "meta" / machine / "fingerprint.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: unreadable fingerprint ({exc})") from None


def _has_results(root: Path, machine: str) -> bool:
    return any(p.name != "machine.json" for p in (root / "asv" / machine).glob("*.json"))


def _check_host(machine: str, root: Path, into: Path, seen: dict, out: Plan) -> None:
    """Refuse a second host under one machine name: the destination's fingerprint (or an earlier
    source's) against this source's."""
    from bench.store.fingerprint import differences

    mine = _fingerprint(root, machine)
    if machine not in seen and (_has_results(into, machine) or _fingerprint(into, machine)):
        seen[machine] = (_fingerprint(into, machine), str(into))
    if machine not in seen:
        seen[machine] = (mine, str(root))
        return
    theirs, where = seen[machine]
    if mine is None or theirs is None:
        missing = root if mine is None else where
        raise MergeError(
            f"machine {machine!r}: {missing} has no fingerprint for it, so its results cannot be "
            f"shown to come from the same host as those in {where if mine is None else root}; "
            "store them under another machine name (seqmnist-bench run --machine)"
        )
    diff = differences(theirs, mine)
    if diff:
        raise MergeError(
            f"machine {machine!r}: {root} comes from another host than {where} "
            f"({'; '.join(diff)}); one machine name is one host: rename one of them"
        )


def _same(out: Plan, src: Path, dest: Path) -> bool:
    """`dest` is already there (or planned) with `src`'s bytes."""
    existing = out.copies.get(dest) or (dest if dest.is_file() else None)
    return existing is not None and existing.read_bytes() == src.read_bytes()


def _add(out: Plan, src: Path, dest: Path, machine: str) -> None:
    planned = out.copies.get(dest)
    existing = planned if planned is not None else (dest if dest.is_file() else None)
    if existing is None:
        out.copies[dest] = src
        if dest.parent.parent.name == "asv" and src.name != "machine.json":
            out.machines[machine] = out.machines.get(machine, 0) + 1
        return
    if existing.read_bytes() == src.read_bytes():
        out.same += 1
    elif src.name in ("machine.json", "fingerprint.json"):
        pass  # asv's host description / the claim's calibration: the host was checked above, keep the first
    else:
        raise MergeError(
            f"{src} differs from {existing}: merge never overwrites a result (the same "
            "commit measured twice under one machine name; keep one of them)"
        )


def _add_benchmarks(out: Plan, src: Path, dest: Path) -> None:
    """asv's benchmark descriptions: entries the destination lacks are added; its own are kept."""
    if not src.is_file():
        return
    try:
        theirs = json.loads(src.read_text())
        mine = json.loads(dest.read_text()) if dest.is_file() else {}
    except (OSError, ValueError) as exc:
        raise MergeError(f"unreadable benchmarks.json ({exc})") from None
    for key, value in theirs.items():
        if key not in mine and key not in out.benchmarks:
            out.benchmarks[key] = value


def apply(p: Plan, into: Path) -> None:
    """Copy what the plan says, each file through a temporary name (no half-written result)."""
    for dest, src in sorted(p.copies.items()):
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".merging")
        shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    if p.benchmarks:
        path = into / "asv" / "benchmarks.json"
        data = json.loads(path.read_text()) if path.is_file() else {}
        data.update(p.benchmarks)
        tmp = path.with_name("benchmarks.json.merging")
        tmp.write_text(json.dumps(data, indent=4, sort_keys=True) + "\n")
        os.replace(tmp, path)
