"""Every file the tool writes goes through here: atomic (temporary file, fsync, rename), so a full disk,
a read-only folder or a kill leaves the old file or the new one, never half of one; stored JSON read
back names the file when it is not what the tool wrote."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from bench.core.errors import RunError


class CorruptFile(RunError):
    """A stored file that cannot be read as what the tool wrote there: exit 2, naming the file."""


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` atomically: a temporary file beside it, fsync, rename over it, fsync the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota: the error names the file it was writing
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def write_text(path: Path | str, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path | str, data, **dump_args) -> Path:
    dump_args.setdefault("indent", 2)
    return write_text(path, json.dumps(data, **dump_args) + "\n")


def read_json(path: Path | str, kind: type = dict):
    """The JSON value stored at `path`, which must be a `kind`; CorruptFile naming the file otherwise."""
    path = Path(path)
    return parse_json(path.read_bytes(), str(path), kind)


def parse_json(data: bytes, where: str, kind: type = dict, advice: str = "restore or delete it"):
    """The JSON value in `data` (UTF-8), which must be a `kind`; CorruptFile naming `where` otherwise."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{where}: not a UTF-8 text file ({exc.reason}); {advice}") from None
    except ValueError as exc:
        raise CorruptFile(f"{where}: not valid JSON ({exc}); {advice}") from None
    except RecursionError:  # '[' x 200,000: no results file nests like that
        raise CorruptFile(f"{where}: JSON nested too deeply to be a results file; {advice}") from None
    if not isinstance(value, kind):
        raise CorruptFile(f"{where}: expected {_json_name(kind)}, found {_json_name(type(value))}; {advice}")
    return value


def _json_name(kind: type) -> str:
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return "a JSON " + names.get(kind, "null")


def sweep(folder: Path, older_than: float = 600.0) -> list[Path]:
    """Remove the temporary files write_bytes leaves when killed mid-write (.<name>.<random>.tmp) below
    `folder`, those older than `older_than` seconds (a younger one may be another command's, writing)."""

    removed = []
    now = time.time()
    for path in Path(folder).rglob(".*.tmp") if Path(folder).is_dir() else []:
        try:
            if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def _sync_folder(folder: Path) -> None:
    """The rename itself survives a crash only once the folder is synced (not possible everywhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
