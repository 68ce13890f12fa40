"""bench/report/hosts.py: machine keys of one kind (name, name-<fingerprint id>) shown together, with
what differs between them in one line."""

from __future__ import annotations

import pandas as pd

from bench.report import hosts

HOST = {
    "cpu_count": 2,
    "cpu_model": "AMD EPYC",
    "gpu": None,
    "memory_gib": 24,
    "os": "Linux-6.18-v782",
    "python": "3.11.7",
    "threads": 2,
    "versions": {"torch": "torch 2.13.0+cpu"},
    "matmul_gflops": 188.7,
}


def test_a_fingerprint_suffix_is_what_keeps_hosts_of_one_kind_apart():
    assert hosts.kind("epyc-2core-avx2-cb1b65e8") == "epyc-2core-avx2"
    assert hosts.kind("epyc-2core-avx2") == "epyc-2core-avx2"
    assert hosts.kind("box-2024") == "box-2024"  # not an 8-hex id


def test_machines_of_one_kind_are_shown_together_newest_kind_first():
    day = pd.Timestamp("2026-12-01")
    newest = pd.Series(
        {
            "a": day,
            "b-0123abcd": day + pd.Timedelta(days=3),
            "c": day + pd.Timedelta(days=2),
            "b": day - pd.Timedelta(1),
        }
    )
    assert hosts.order(list(newest.index), newest) == ["b-0123abcd", "b", "c", "a"]


def test_the_line_says_which_hosts_share_the_kind_and_what_differs():
    other = {**HOST, "os": "Linux-6.18-v1045", "matmul_gflops": 146.8}
    fps = {"box": HOST, "box-0123abcd": other}
    shown = ["box", "box-0123abcd", "elsewhere"]
    line = hosts.differences("box", shown, fps)
    assert "2 machine keys" in line and "(`box`, `box-0123abcd`, in that order)" in line
    assert "os v782 | v1045" in line  # the kernel builds, without the prefix both share
    assert "matmul_gflops 189 | 147" in line
    assert "cpu_model" not in line  # only what differs
    assert "said there" in hosts.differences("box-0123abcd", shown, fps)  # the line is written once, at the first
    assert hosts.differences("elsewhere", shown, fps) == ""
    assert "no fingerprint stored for `box-0123abcd`" in hosts.differences("box", shown, {"box": HOST})
