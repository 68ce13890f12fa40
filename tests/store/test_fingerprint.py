"""Machine identity: results of another host never go under a machine name already taken."""

from __future__ import annotations

import json

import pytest

from bench.store import fingerprint


def fp(**changes) -> dict:
    base = {
        "cpu_model": "AMD EPYC",
        "cpu_count": 2,
        "threads": 2,
        "memory_gib": 24,
        "os": "Linux-6.1-x86_64",
        "python": "3.11.7",
        "gpu": None,
        "versions": {"torch": "torch 2.13.0"},
        "matmul_gflops": 300.0,
    }
    base.update(changes)
    base["id"] = fingerprint.identity(base)
    return base


def test_first_run_claims_the_name_and_the_same_host_keeps_it(tmp_path):
    assert fingerprint.machine_key(tmp_path, "box", fp()) == ("box", None)
    stored = json.loads(fingerprint.path(tmp_path, "box").read_text())
    assert stored["cpu_model"] == "AMD EPYC"
    # the calibration wobbles a little from run to run on one host: still the same machine
    assert fingerprint.machine_key(tmp_path, "box", fp(matmul_gflops=280.0)) == ("box", None)


@pytest.mark.parametrize(
    "change",
    [
        {"cpu_model": "Intel Xeon"},
        {"cpu_count": 4},
        {"memory_gib": 16},
        {"versions": {"torch": "torch 2.14.0"}},
    ],
)
def test_a_different_host_is_kept_apart_with_a_warning(tmp_path, change):
    fingerprint.machine_key(tmp_path, "box", fp())
    key, warning = fingerprint.machine_key(tmp_path, "box", fp(**change))
    assert key != "box" and key.startswith("box-")
    assert warning and "kept apart" in warning and "box" in warning
    assert fingerprint.path(tmp_path, key).is_file()
    # the same other host comes back to its own key, not a third one
    assert fingerprint.machine_key(tmp_path, "box", fp(**change))[0] == key


def test_the_calibration_never_splits_a_machine(tmp_path):
    """One shared 2-core box measured 93-311 GFLOP/s from run to run: a measurement of the moment,
    not an identity. Every run of the same host keeps one key (the calibration is stored per run)."""
    keys = {fingerprint.machine_key(tmp_path, "box", fp(matmul_gflops=g))[0] for g in (320.0, 93.0, 186.0, 311.0)}
    assert keys == {"box"}


def test_results_stored_before_fingerprints_are_not_mixed_with_new_ones(tmp_path):
    legacy = tmp_path / "results" / "asv" / "box"
    legacy.mkdir(parents=True)
    (legacy / "machine.json").write_text("{}")
    (legacy / "abcdef12-existing.json").write_text("{}")
    key, warning = fingerprint.machine_key(tmp_path, "box", fp())
    assert key != "box" and "no fingerprint" in warning


def test_take_records_identity_and_calibration():
    host = {"cpu_model": "x", "cpu_count": 2, "threads": 1, "gpu_driver": None}
    taken = fingerprint.take(host, {"torch": "torch 2.13.0"})
    assert taken["id"] == fingerprint.identity(taken)
    assert taken["matmul_gflops"] is None or taken["matmul_gflops"] > 1
