"""The machine results go under, the same for run, compare and noise: a usable name, this host's
fingerprint, and its own key when another host is stored under the name."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from bench.core.errors import RunError
from bench.store import fingerprint
from bench.workload.probe import host_info
from impls import FRAMEWORKS

MAX_MACHINE_NAME = 64


def check_machine_name(name: str | None) -> str:
    """The machine name results go under: `name`, default the host name; RunError if unusable
    (it becomes a folder name under results/asv and results/meta)."""
    name = name or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or len(name) > MAX_MACHINE_NAME:
        raise RunError(
            f"machine name {name[:80]!r}: must start with a letter or digit, hold only letters, digits, "
            f"'.', '_' or '-', and be at most {MAX_MACHINE_NAME} characters"
        )
    return name


def identify_host(
    meta_root: Path, name: str | None, threads: int | None, log=print, claim: bool = True
) -> tuple[str, dict, dict]:
    """(machine key, fingerprint, host info) for results measured here, the same for run, compare
    and noise; says so when this host is kept apart from the one stored under `name`. With `claim`
    false the fingerprint is not stored yet (a command that may fail before it stores anything)."""

    name = check_machine_name(name)
    fingerprint.stored(meta_root, name)  # a corrupt one is named before seconds of probing and calibration
    host = host_info() if not threads else {**host_info(), "threads": threads}
    fp = fingerprint.take(host, fingerprint.installed_versions(FRAMEWORKS))
    key, warning = fingerprint.machine_key(meta_root, name, fp, claim)
    if warning:
        log(f"warning: {warning}")
    return key, fp, host
