"""Benchmark history on a git branch (`benchmark-results`), so it outlives any cache: each runner adds
its own machine's results there after a run on main (retrying when another runner pushed first), and
`history restore` merges every machine's results from the branch into results/ before a run or a page.

The branch is untrusted input, read the way merge reads a runner's artifact: only regular files of the
names merge knows (results/<asv|meta|rounds|profiles>/<machine>/<file>, results/asv/benchmarks.json) at
every level of the path, each checked for size while it streams out of git and for JSON before it is
used. It is read and written through git's object store (ls-tree, cat-file, a private index,
commit-tree), never checked out, so a link on the branch is never followed. `save` only adds: a file
the branch holds is never removed or rewritten (benchmarks.json gains entries), and it pushes only
files `restore` accepts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import GitFailed, git, git_bytes, git_popen, git_try
from bench.store import layout
from bench.store.fingerprint import differences, kept_apart
from bench.tasks import merge

SUBFOLDERS = tuple(merge.FILES)  # asv, meta, rounds, profiles: what a machine keeps, as merge reads it
BENCHMARKS = "results/asv/benchmarks.json"
IDENTITY = ("-c", "user.name=seqmnist-bench", "-c", "user.email=seqmnist-bench@users.noreply.invalid")


class BranchError(RunError):
    """The history branch holds something restore would refuse, or a name is unsafe: exit 2."""


@dataclass
class Saved:
    commit: str | None  # the branch commit made (None: nothing new)
    attempts: int
    files: int
    kept: list[str] = field(default_factory=list)  # paths the branch already held with other bytes (kept)


@dataclass(frozen=True)
class Entry:
    """One file on the branch, as `git ls-tree --long` lists it."""

    mode: str
    kind: str
    object: str
    size: int
    path: str


def check_names(remote: str, branch: str) -> None:
    """A remote and a branch name git takes as names, never as options or odd refs."""
    if not remote or remote.startswith("-") or any(c.isspace() or ord(c) < 32 for c in remote):
        raise BranchError(f"--remote {remote!r}: not a remote name or URL")
    ok = git_try(None, "check-ref-format", "--branch", branch) is not None
    if not ok or branch.startswith("-"):
        raise BranchError(f"--branch {branch!r}: not a valid branch name")


def fetch(root: Path, remote: str, branch: str) -> str | None:
    """The branch's newest commit on `remote` (fetched), None when the branch does not exist yet."""
    check_names(remote, branch)
    try:
        git(root, "fetch", "--quiet", "--", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    except GitFailed as exc:
        if "couldn't find remote ref" in str(exc).lower():
            return None
        raise RunError(f"cannot fetch the history branch {branch!r} from {remote!r}: {_first_line(exc)}") from None
    return git(root, "rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}^{{commit}}")


def listing(root: Path, head: str, branch: str) -> list[Entry]:
    """Every file on the branch commit `head`, each checked: a regular file (no link or submodule, at any
    level), of a name merge knows (under results/: nothing else, `.git/` least of all), of at most
    merge.MAX_BYTES."""
    try:
        out = git_bytes(root, "ls-tree", "-r", "-z", "--long", "--full-tree", head)
    except GitFailed as exc:
        raise RunError(f"cannot list the history branch {branch!r}: {exc}") from None
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        info, _, raw = record.partition(b"\t")
        mode, kind, obj, size = info.decode().split()
        path = raw.decode(errors="replace")
        where = f"branch {branch!r}: {path}"
        if kind != "blob" or mode not in ("100644", "100755"):
            what = "a symbolic link" if mode == "120000" else f"not a regular file (mode {mode})"
            raise BranchError(f"{where}: {what}; the branch may hold regular files only: remove it there")
        if not known(path):
            raise BranchError(f"{where}: not a results file (results/<asv|meta|rounds|profiles>/<machine>/<file>)")
        if int(size) > merge.MAX_BYTES:
            raise BranchError(f"{where}: {int(size):,} bytes, over the {merge.MAX_BYTES:,} a results file may have")
        entries.append(Entry(mode, kind, obj, int(size), path))
    try:
        merge.check_budget(len(entries), sum(e.size for e in entries), f"branch {branch!r}")
    except merge.MergeError as exc:
        raise BranchError(str(exc)) from None
    return entries


def known(path: str) -> bool:
    """A path the branch may hold: results/asv/benchmarks.json or a machine's file merge knows."""
    parts = path.split("/")
    if path == BENCHMARKS:
        return True
    return (
        len(parts) == 4
        and parts[0] == "results"
        and parts[1] in merge.FILES
        and bool(merge.MACHINE.fullmatch(parts[2]))
        and bool(merge.FILES[parts[1]].fullmatch(parts[3]))
    )


def read_blob(root: Path, entry: Entry, branch: str) -> bytes:
    """A file's bytes out of git, its size checked while it streams; JSON checked for .json files."""
    proc = git_popen(root, "cat-file", "blob", entry.object, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    chunks, size = [], 0
    try:
        while chunk := proc.stdout.read(1 << 16):
            size += len(chunk)
            if size > merge.MAX_BYTES:
                raise BranchError(
                    f"branch {branch!r}: {entry.path}: over the {merge.MAX_BYTES:,} bytes a results file may have"
                )
            chunks.append(chunk)
    finally:
        proc.stdout.close()
        if proc.poll() is None and size > merge.MAX_BYTES:
            proc.kill()
        proc.wait()
    if proc.returncode != 0:
        raise RunError(f"cannot read {entry.path} from the history branch {branch!r}")
    data = b"".join(chunks)
    if entry.path.endswith(".json"):
        files.parse_json(data, f"branch {branch!r}: {entry.path}", advice="remove or fix it on the branch")
    return data


def read_blobs(root: Path, entries: list[Entry], branch: str):
    """(entry, bytes) for every entry, out of one `git cat-file --batch` (a process per file took 17.6 ms
    a file), each of the size the listing checked; JSON checked for .json files."""
    proc = git_popen(root, "cat-file", "--batch", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    writer = threading.Thread(target=_ask, args=(proc.stdin, entries), daemon=True)
    writer.start()
    try:
        for entry in entries:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob" or int(header[2]) != entry.size:
                raise RunError(f"cannot read {entry.path} from the history branch {branch!r}")
            data = proc.stdout.read(entry.size)
            proc.stdout.read(1)  # the newline after each object
            if entry.path.endswith(".json"):
                files.parse_json(data, f"branch {branch!r}: {entry.path}", advice="remove or fix it on the branch")
            yield entry, data
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        writer.join(timeout=5)


def _ask(stdin, entries: list[Entry]) -> None:
    try:
        for entry in entries:
            stdin.write(entry.object.encode() + b"\n")
        stdin.close()
    except OSError:
        pass  # git stopped reading: the reader says why


def restore(root: Path, remote: str = "origin", branch: str = "benchmark-results") -> merge.MergePlan | None:
    """Merge every machine's results on the branch into root/results (merge's rules: regular files only,
    never an overwrite, all or nothing); None when the branch does not exist yet."""
    head = fetch(root, remote, branch)
    if head is None:
        return None
    entries = listing(root, head, branch)
    if not entries:
        raise BranchError(f"branch {branch!r} holds no results/ folder")
    with tempfile.TemporaryDirectory(prefix="seqmnist-history-") as tmp:
        for entry, data in read_blobs(root, entries, branch):
            files.write_bytes(Path(tmp) / entry.path, data)
        into = layout.results_dir(root)
        into.mkdir(exist_ok=True)
        try:
            plan = merge.plan([Path(tmp) / "results"], into)
        except RunError as exc:  # name the branch, not the temporary folder it was read into
            raise type(exc)(str(exc).replace(str(Path(tmp)), f"branch {branch!r}:")) from None
        merge.apply(plan, into)
        return plan


def save(
    root: Path,
    machine: str,
    remote: str = "origin",
    branch: str = "benchmark-results",
    retries: int = 5,
    log=lambda m: None,
) -> Saved:
    """Add this machine's results to the branch and push; on a rejected push (another runner was
    first) fetch again and redo the commit on top, up to `retries` times."""
    check_names(remote, branch)
    machines = keys_of(root, machine)
    if not machines:
        raise RunError(f"no results for machine {machine!r} under {root / 'results' / 'asv'}: nothing to save")
    ours = local_files(root, machines)
    source = git(root, "rev-parse", "--short=8", "HEAD")
    for attempt in range(1, retries + 1):
        head = fetch(root, remote, branch)
        held = {e.path: e for e in listing(root, head, branch)} if head else {}
        with tempfile.TemporaryDirectory(prefix="seqmnist-history-") as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            git(root, "read-tree", *([head] if head else ["--empty"]), env=env)
            added, kept = _stage(root, ours, held, branch, Path(tmp), env)
            if not added:
                return Saved(None, attempt, 0, kept)
            tree = git(root, "write-tree", env=env)
            message = f"results of {machine} measuring {source}"
            made = git(root, *IDENTITY, "commit-tree", tree, *(["-p", head] if head else []), "-m", message)
            pushed = push(root, remote, made, branch)
            if pushed.returncode == 0:
                return Saved(made, attempt, len(added), kept)
            if not _moved(pushed.stderr):  # a server's refusal (a hook, a protected branch): no retry helps
                raise RunError(f"cannot push the history branch {branch!r} to {remote!r}: {pushed.stderr.strip()}")
            log(f"history: {branch} moved while saving (attempt {attempt}/{retries}); fetching it again")
        time.sleep(min(2**attempt, 30) * 0.1)
    raise RunError(f"the history branch {branch!r} kept moving: not saved after {retries} attempts")


def local_files(root: Path, machines: list[str]) -> dict[str, Path]:
    """Branch path -> local file, for every file of `machines` (and benchmarks.json), each checked by
    merge's rules: what restore will accept, and nothing through a link at any level."""
    results = layout.results_dir(root)
    for part in (results, layout.asv_dir(root), *(results / sub for sub in SUBFOLDERS)):
        if part.is_symlink():
            raise BranchError(f"{part}: a symbolic link; save reads only the results folders themselves")
    found = {}
    for m in machines:
        for sub in SUBFOLDERS:
            for path in merge.machine_files(results, sub, m):
                found[f"results/{sub}/{m}/{path.name}"] = path
    bench = layout.benchmarks_file(root)
    if bench.exists() or bench.is_symlink():
        merge.regular(bench)
        found[BENCHMARKS] = bench
    return found


def _stage(root: Path, ours: dict[str, Path], held: dict[str, Entry], branch: str, tmp: Path, env: dict):
    """Add to the private index what the branch lacks: (paths added, paths it holds with other bytes)."""
    added, kept = [], []
    for path, local in sorted(ours.items()):
        src = _benchmarks(root, local, held.get(path), branch, tmp) if path == BENCHMARKS else local
        if src is None:
            continue
        obj = git(root, "hash-object", "-w", "--no-filters", "--", str(src))
        if path in held and path != BENCHMARKS:
            if held[path].object != obj:
                _same_host(root, path, src, held[path], branch)
                kept.append(path)
            continue
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{obj},{path}", env=env)
        added.append(path)
    return added, kept


def _benchmarks(root: Path, ours: Path, theirs: Entry | None, branch: str, tmp: Path) -> Path | None:
    """benchmarks.json with the branch's entries kept and ours added; None when it adds nothing."""
    mine = files.read_json(ours)
    held = files.parse_json(read_blob(root, theirs, branch), theirs.path) if theirs else {}
    new = {k: v for k, v in mine.items() if k not in held}
    if theirs and not new:
        return None
    return files.write_json(tmp / "benchmarks.json", {**held, **new}, indent=4, sort_keys=True)


def _same_host(root: Path, path: str, src: Path, held: Entry, branch: str) -> None:
    """A fingerprint the branch holds for the machine must describe this host (else restore refuses)."""
    if not path.endswith("/fingerprint.json"):
        return
    theirs = files.parse_json(read_blob(root, held, branch), held.path)
    diff = differences(theirs, files.read_json(src))
    if diff:
        raise BranchError(
            f"{path}: branch {branch!r} holds another host's fingerprint under this machine name "
            f"({'; '.join(diff)}); one machine name is one host: save under another --machine"
        )


def push(root: Path, remote: str, commit: str, branch: str) -> subprocess.CompletedProcess:
    """git push of `commit` to the branch, in a session of its own (a Ctrl-C does not reach it halfway).
    Interrupted, it lets the push end, then says truthfully whether the commit landed."""
    args = ("push", "--quiet", "--", remote, f"{commit}:refs/heads/{branch}")
    proc = git_popen(root, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate()
    except KeyboardInterrupt:
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        landed = _remote_head(root, remote, branch) == commit
        said = f"saved as {commit[:8]} on {branch!r}" if landed else f"nothing saved to {branch!r}"
        print(
            f"history save interrupted: the push {'had landed' if landed else 'did not land'}, {said}", file=sys.stderr
        )
        raise
    return subprocess.CompletedProcess(["git", *args], proc.returncode, out, err)


def _remote_head(root: Path, remote: str, branch: str) -> str | None:
    out = git_try(root, "ls-remote", "--", remote, f"refs/heads/{branch}")
    return out.split()[0] if out else None


def keys_of(root: Path, machine: str) -> list[str]:
    """The machine keys results of `machine` went under: the name itself and `name-<fingerprint id>`
    (another host under the name, kept apart by run: a CI label's hosts can change)."""
    asv = layout.asv_dir(root)
    pattern = re.compile(f"{re.escape(machine)}|{kept_apart(machine)}")
    return sorted(p.name for p in asv.iterdir() if p.is_dir() and pattern.fullmatch(p.name)) if asv.is_dir() else []


MOVED = (
    "non-fast-forward",
    "fetch first",
    "stale info",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)


def _moved(stderr: str) -> bool:
    """Whether git refused the push because the branch moved under it (another runner was first, seen on
    either side): fetching again helps. A hook's or a protected branch's "[remote rejected]" is not that."""
    text = stderr.lower()
    return any(s in text for s in MOVED)


def _first_line(exc: Exception) -> str:
    """git's first line of complaint (the rest is advice on remotes and access rights)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else str(exc)
