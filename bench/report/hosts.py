"""Hosts of one kind: machine keys that `run` kept apart by fingerprint (name, name-<id>) shown together
on the page, with one line saying what differs between them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.report.corrupt import Corrupt, readable
from bench.store import fingerprint

SUFFIX = re.compile(r"-[0-9a-f]{8}$")  # fingerprint.machine_key's name-<id>


def kind(machine: str) -> str:
    """The name a user gave: the machine key without the fingerprint id machine_key may have added."""
    return SUFFIX.sub("", machine)


def load_hosts(root: Path, machines, corrupt: Corrupt | None = None) -> dict[str, dict]:
    """Each machine's stored fingerprint (machines without one, or whose one `corrupt` skipped, are left out)."""
    return {m: fp for m in machines if (fp := readable(fingerprint.path(Path(root), m), _stored, corrupt)) is not None}


def _stored(path: Path) -> dict | None:
    return files.read_json(path) if path.is_file() else None


def _field(fp: dict, name: str) -> str:
    value = fp.get(name)
    if name == "matmul_gflops" and isinstance(value, (int, float)):
        return f"{value:.0f}"
    if isinstance(value, dict):
        return ", ".join(str(v) for _, v in sorted(value.items()))
    return "none" if value is None else str(value)


SHOWN = (*fingerprint.STABLE, "plugin_versions", "matmul_gflops")  # matmul: a measurement of the moment


def _trimmed(values: list[str]) -> list[str]:
    """Values without the prefix and suffix they all share (kernel builds: 'v1098', 'v669')."""
    if len(values) < 2 or not all(values):
        return values
    head = os.path.commonprefix(values).rfind("-") + 1  # whole parts only: 'v1098', not '1098'
    tail = os.path.commonprefix([v[head:][::-1] for v in values]).rfind("-") + 1
    return [v[head : len(v) - tail] or v for v in values]


def differences(machine: str, machines: list[str], hosts: dict[str, dict]) -> str:
    """One line for a machine that shares its kind with others; at the first of them on the page, which
    they are and each field whose value differs (values in their order), else a pointer to that line; '' when
    the machine is alone of its kind."""
    group = [m for m in machines if kind(m) == kind(machine)]
    if len(group) < 2:
        return ""
    if machine != group[0]:
        return f"Same kind of host as `{group[0]}` ({len(group)} machine keys, kept apart by fingerprint): what differs is said there."
    if any(m not in hosts for m in group):
        missing = ", ".join(f"`{m}`" for m in group if m not in hosts)
        what = f"no fingerprint stored for {missing}"
    else:
        parts = []
        for name in SHOWN:
            values = [_field(hosts[m], name) for m in group]
            if len(set(values)) > 1:
                raw = [hosts[m].get(name) for m in group]
                if any(isinstance(v, dict) for v in raw) and len({v for v in values if v != "none"}) == 1:
                    values = ["none" if v is None else "recorded" for v in raw]  # only its presence differs
                parts.append(f"{name} " + " | ".join(_trimmed(values) if name == "os" else values))
        what = "; ".join(parts) or "nothing recorded differs"
    keys = ", ".join(f"`{m}`" for m in group)
    return f"{len(group)} machine keys of one kind of host, kept apart by fingerprint ({keys}, in that order): {what}."


def order(machines: list[str], newest: pd.Series) -> list[str]:
    """Machines of one kind next to each other (the kind at its newest machine's place), newest first;
    `newest`: each machine's newest stored date."""
    latest = {k: max(newest[m] for m in machines if kind(m) == k) for k in map(kind, machines)}
    return sorted(machines, key=lambda m: (-latest[kind(m)].value, kind(m), -newest[m].value))
