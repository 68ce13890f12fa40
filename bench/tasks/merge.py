"""`seqmnist-bench merge DIR...`: bring other runners' results (CI artifacts: results/asv/<machine>/,
results/meta/<machine>/, the paired rounds in results/rounds/<machine>/ and the step breakdowns in
results/profiles/<machine>/) into one results folder, so
one report and one page cover every machine.

A machine name stands for one host: a source whose fingerprint differs from the one stored under that
name (or that cannot show one where results are already stored) is refused. A stored file is never
overwritten: the same bytes are skipped, different bytes refuse the merge. Only regular files of the
expected names, sizes and formats are read (a runner's artifact is not trusted: no links, devices or
stray files). Everything is checked before anything is written, and the copy is staged, then renamed
into place: a refused or failed merge leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.core import files
from bench.core.errors import RunError
from bench.store import layout
from bench.store.fingerprint import differences


class MergeError(RunError):
    """A merge that would mix two hosts, overwrite a result, or read something other than a results file:
    exit status 2, nothing written."""


MAX_BYTES = 8 * 2**20  # the largest file merge accepts (the largest stored here: a full run's rounds file, 0.4 MiB)
MAX_FILES = 50_000  # budgets of one merge or restore, checked before anything is written. A machine's commit
MAX_TOTAL = 4 * 2**30  # takes 4 files and at most about 0.5 MiB here (asv results 16 KB, run metadata 5 KB,
# rounds up to 0.4 MiB, a profile 60 KB), so 1,000 commits of five machines take 20,000 files and about 2.5 GiB
MACHINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")  # what `run --machine` accepts
FILES = {  # the files a machine folder may hold, by subfolder
    "asv": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.json$"),
    "meta": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.json$"),
    "rounds": re.compile(r"^[0-9a-f]{8}\.csv$"),
    "profiles": re.compile(r"^[0-9a-f]{8}\.json$"),  # step breakdowns (`profile`), one per commit
}
LOCAL = {"profiles": {"traces"}}  # what stays on the machine that wrote it (profile traces: local paths, large)


@dataclass
class MergePlan:
    copies: dict[Path, Path] = field(default_factory=dict)  # destination -> source
    same: int = 0  # files already there with the same bytes
    benchmarks: dict = field(default_factory=dict)  # asv benchmarks.json entries the destination lacks
    machines: dict[str, int] = field(default_factory=dict)  # machine -> results files added


def results_root(folder: Path) -> Path:
    """The folder holding asv/ and meta/: the folder itself, or its results/ (a checkout or an artifact)."""
    for candidate in (folder, folder / "results"):
        if (candidate / "asv").is_dir():
            for part in (candidate, candidate / "asv"):
                if part != folder and part.is_symlink():
                    raise MergeError(f"{part}: a symbolic link; merge reads only the folders it is given")
            return candidate
    raise MergeError(f"{folder}: no asv/ or results/asv/ folder here: not a results folder")


def plan(sources: list[Path], into: Path) -> MergePlan:
    """What merging `sources` into the results folder `into` (holding asv/ and meta/) would copy. Every
    source file is checked first: a regular file (no link, device or pipe), of the expected name and
    size, and JSON where it should be."""
    out = MergePlan()
    fingerprints: dict[str, tuple[dict | None, str]] = {}  # machine -> (fingerprint, where it came from)
    for source in sources:
        root = results_root(source)
        if root.resolve() == into.resolve():
            raise MergeError(f"{source}: is the destination itself")
        for machine in _machines(root):
            files = [
                (src, into / sub / machine / src.name) for sub in FILES for src in machine_files(root, sub, machine)
            ]
            if all(_same(out, src, dest) for src, dest in files):
                out.same += len(files)  # nothing new for this machine (a clone of the destination, say)
                continue
            _check_host(machine, root, into, fingerprints, out)
            for src, dest in files:
                _add(out, src, dest, machine)
        _add_benchmarks(out, root / "asv" / "benchmarks.json", into / "asv" / "benchmarks.json")
    check_budget(len(out.copies), sum(src.stat().st_size for src in out.copies.values()), "this merge")
    return out


def check_budget(count: int, total: int, what: str) -> None:
    """MergeError when `count` files of `total` bytes exceed what one merge or restore takes."""
    if count > MAX_FILES or total > MAX_TOTAL:
        raise MergeError(
            f"{what} would write {count:,} files, {total:,} bytes: over the {MAX_FILES:,} files and "
            f"{MAX_TOTAL:,} bytes one merge or restore takes (1,000 commits of five machines take about "
            "20,000 files and 2.5 GiB)"
        )


def _machines(root: Path) -> list[str]:
    """The machine folders of root/asv/ (benchmarks.json is the one file there), each checked."""
    names = []
    for entry in sorted((root / "asv").iterdir()):
        if entry.name == "benchmarks.json":
            regular(entry)
            continue
        if entry.is_symlink() or not entry.is_dir():
            raise MergeError(f"{entry}: not a machine folder (a link, or a file where machine folders are)")
        if not MACHINE.fullmatch(entry.name):
            raise MergeError(f"{entry}: {entry.name!r} is not a machine name")
        names.append(entry.name)
    return names


def machine_files(root: Path, sub: str, machine: str) -> list[Path]:
    folder = root / sub / machine
    for part in (root / sub, folder):  # every level below the results folder, not only the last
        if part.is_symlink():
            raise MergeError(f"{part}: a symbolic link; merge reads only the folders it is given")
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise MergeError(f"{folder}: not a folder")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name in LOCAL.get(sub, ()):
            continue
        if not FILES[sub].fullmatch(entry.name):
            raise MergeError(f"{entry}: not a file merge knows ({sub}/<machine>/ holds {FILES[sub].pattern})")
        regular(entry)
        found.append(entry)
    return found


def regular(path: Path) -> None:
    """`path` is a regular file (not a link, device, pipe or folder) of at most MAX_BYTES, and JSON
    holding an object when it is a .json file."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise MergeError(f"{path}: {kind}; merge copies only regular files")
    if info.st_size > MAX_BYTES:
        raise MergeError(f"{path}: {info.st_size:,} bytes, over the {MAX_BYTES:,} a results file may have")
    if path.suffix == ".json":
        why = layout.misplaced(path, files.read_json(path))  # CorruptFile (exit 2) naming it when unreadable
        if why:
            raise MergeError(f"{path}: {why}; a machine is its folder, a commit its file name")


def _fingerprint(root: Path, machine: str) -> dict | None:
    path = root / "meta" / machine / "fingerprint.json"
    return files.read_json(path) if path.is_file() else None


def _has_results(root: Path, machine: str) -> bool:
    return any(p.name != "machine.json" for p in (root / "asv" / machine).glob("*.json"))


def _check_host(machine: str, root: Path, into: Path, seen: dict, out: MergePlan) -> None:
    """Refuse a second host under one machine name: the destination's fingerprint (or an earlier
    source's) against this source's."""

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


def _same(out: MergePlan, src: Path, dest: Path) -> bool:
    """`dest` is already there (or planned) with `src`'s bytes."""
    existing = out.copies.get(dest) or (dest if dest.is_file() else None)
    return existing is not None and existing.read_bytes() == src.read_bytes()


def _add(out: MergePlan, src: Path, dest: Path, machine: str) -> None:
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


def _add_benchmarks(out: MergePlan, src: Path, dest: Path) -> None:
    """asv's benchmark descriptions: entries the destination lacks are added; its own are kept."""
    if not src.is_file():
        return
    theirs = files.read_json(src)  # checked a regular file by _machines
    mine = files.read_json(dest) if dest.is_file() else {}
    for key, value in theirs.items():
        if key not in mine and key not in out.benchmarks:
            out.benchmarks[key] = value


def apply(p: MergePlan, into: Path) -> None:
    """All or nothing: every file is first written in a staging folder inside `into` (same file system,
    fsynced), then renamed into place; a failure before the last rename takes back what was renamed and
    the folders made for it, and names the file it was writing, never the staging folder."""
    made = _made_folders(into, [*p.copies, into / "asv" / "benchmarks.json"])
    into.mkdir(parents=True, exist_ok=True)
    for stale in into.glob(".merging-*"):  # a merge killed while staging
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".merging-", dir=into))
    moves: list[tuple[Path, Path]] = []
    try:
        for n, (dest, src) in enumerate(sorted(p.copies.items())):
            moves.append((_staged(staging / str(n), src.read_bytes(), dest), dest))
        if p.benchmarks:
            path = into / "asv" / "benchmarks.json"
            data = files.read_json(path) if path.is_file() else {}
            data.update(p.benchmarks)
            text = json.dumps(data, indent=4, sort_keys=True) + "\n"
            moves.append((_staged(staging / "benchmarks.json", text.encode(), path), path))
        _move_all(moves)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # deepest first; one that holds something (not ours) stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _made_folders(into: Path, dests: list[Path]) -> list[Path]:
    """The folders on the way to `dests` that do not exist yet (the merge makes them), deepest first."""
    missing = set()
    for dest in dests:
        for folder in [dest.parent, *dest.parent.parents]:
            if folder.exists() or not folder.is_relative_to(into.parent):
                break
            missing.add(folder)
    return sorted(missing, key=lambda f: len(f.parts), reverse=True)


def _staged(staging: Path, data: bytes, dest: Path) -> Path:
    """`data` written in the staging folder; an OSError names `dest`, where it was going."""
    try:
        return files.write_bytes(staging, data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(dest)) from None


def _move_all(moves: list[tuple[Path, Path]]) -> None:
    done: list[tuple[Path, bytes | None]] = []  # destination, its bytes before (None: it was not there)
    try:
        for staged, dest in moves:
            dest.parent.mkdir(parents=True, exist_ok=True)
            before = dest.read_bytes() if dest.is_file() else None
            os.replace(staged, dest)
            done.append((dest, before))
    except BaseException:
        for dest, before in reversed(done):
            if before is None:
                dest.unlink(missing_ok=True)
            else:
                files.write_bytes(dest, before)
        raise
