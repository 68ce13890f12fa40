"""What a stored asv results file and a run's metadata must hold before the report reads them: one check
each, run where the file is read, naming the first field that is not as the tool stores it. Stored
results are untrusted input (a restored branch, a merged artifact): what passes here is read by code
that then treats any error as a bug of the tool, never as bad data."""

from __future__ import annotations

import math
import re

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}")  # a benchmark's asv name: module.Class.method
PARAM = re.compile(r"[^\x00-\x1f\x7f]{1,200}")  # a parameter value as asv stores it (a repr): printable, short
LINE = re.compile(r"[^\x00-\x1f\x7f]{0,300}")  # a host string or framework version: one printable line
TEXT_FIELDS = ("data", "started", "finished", "bench")  # run metadata fields of text (or null)
FLAG_FIELDS = ("quick", "dirty")  # run metadata fields of true/false (or null)


def results_problem(res) -> str | None:
    """Why an asv Results object is not one the tool stored (the first field that breaks its shape),
    or None."""
    for name in res.get_all_result_keys():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            return f"benchmark name {str(name)[:60]!r} is not an asv benchmark name"
        why = _benchmark_problem(res, name)
        if why:
            return f"{name}: {why}"
    return None


def _benchmark_problem(res, name: str) -> str | None:
    params = res._benchmark_params.get(name)
    if not isinstance(params, list) or not all(
        isinstance(values, list) and values and all(isinstance(v, str) and PARAM.fullmatch(v) for v in values)
        for values in params
    ):
        return "parameters are not lists of short printable values"
    size = math.prod(len(values) for values in params) if params else 1
    version = res._benchmark_version.get(name)
    if version is not None and not isinstance(version, str):
        return f"version {str(version)[:40]!r} is not text"
    values = res._results.get(name)  # asv keeps one cell per combination (one for none), or null for all
    if values is not None and (not isinstance(values, list) or len(values) != size or not all(map(_number, values))):
        return "values are not one number (or null) per parameter combination"
    samples = res._samples.get(name)
    if samples is not None:
        if not isinstance(samples, list) or len(samples) != size or not all(_numbers(s) for s in samples):
            return "samples are not one list of numbers (or null) per parameter combination"
    stats = res._stats.get(name)
    if stats is not None:
        if not isinstance(stats, list) or len(stats) != size or not all(_stat(s) for s in stats):
            return "statistics are not one object of numbers (or null) per parameter combination"
    return None


def meta_problem(meta: dict) -> str | None:
    """Why a run's metadata is not what `run` stores (the first field of the wrong type), or None."""
    for key in ("host", "fingerprint", "frameworks", "skipped", "benchmarks", "rounds", "selected"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            return f"its {key} is not an object"
    for key in TEXT_FIELDS:
        if meta.get(key) is not None and not isinstance(meta[key], str):
            return f"its {key} is not text"
    for key in FLAG_FIELDS:
        if meta.get(key) is not None and not isinstance(meta[key], bool):
            return f"its {key} is not true or false"
    host = meta.get("host") or {}
    if not all(v is None or isinstance(v, (str, int, float)) for v in host.values()):
        return "its host holds a value that is neither text nor a number"
    if not all(LINE.fullmatch(v) for v in host.values() if isinstance(v, str)):
        return "its host holds text that is not one printable line"
    if not all(isinstance(v, dict) for v in (meta.get("frameworks") or {}).values()):
        return "its frameworks hold an entry that is not an object"
    for fw in (meta.get("frameworks") or {}).values():
        if not all(fw.get(k) is None or isinstance(fw[k], str) for k in ("version", "gpu_name", "reason")):
            return "a framework's version, GPU or reason is not text"
        if not all(fw.get(k) is None or LINE.fullmatch(fw[k]) for k in ("version", "gpu_name")):
            return "a framework's version or GPU is not one printable line"
    if not all(isinstance(v, str) for v in (meta.get("skipped") or {}).values()):
        return "its skipped reasons are not text"
    fingerprint = meta.get("fingerprint") or {}
    if fingerprint.get("id") is not None and not isinstance(fingerprint["id"], str):
        return "its fingerprint id is not text"
    if fingerprint.get("matmul_gflops") is not None and not _number(fingerprint["matmul_gflops"]):
        return "its fingerprint's matmul GFLOP/s is not a number"
    if not all(isinstance(v, dict) for v in (meta.get("benchmarks") or {}).values()):
        return "its benchmarks hold an entry that is not a run's record"
    busy = (meta.get("rounds") or {}).get("busy_rounds")
    if busy is not None and not (isinstance(busy, list) and all(type(r) is int for r in busy)):
        return "its busy rounds are not round numbers"
    return None


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _numbers(values) -> bool:
    return values is None or (isinstance(values, list) and all(_number(v) and v is not None for v in values))


def _stat(value) -> bool:
    return value is None or (isinstance(value, dict) and all(_number(v) for v in value.values()))
