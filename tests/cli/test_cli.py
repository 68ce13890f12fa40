"""The command line as a user meets it: help, exit statuses, clear errors for bad input, train on tiny
data, report as a gate.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from asv_files import BASE, FW_2B, write_results
from conftest import cli, cli_env, framework_params

import impls
from bench import report


def test_help_names_every_command():
    out = cli("--help").stdout
    for command in ("train", "run", "report", "compare"):
        assert command in out


def test_every_commands_help_prints_percent_signs_once():
    """argparse %-formats help strings but not descriptions: a '%%' written in a description shows."""
    from bench.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        text = parser.format_help()
        assert "%%" not in text and "%(" not in text, name


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--framework", "torch", "--data-dir", "/nonexistent"], "does not exist"),
        (["train", "--framework", "torch", "--epochs", "0"], "must be >= 1"),
        (["train", "--framework", "mxnet"], "invalid choice"),
        (["train", "--framework", "torch", "--precision", "fp8"], "invalid choice"),
        (["train", "--framework", "jax", "--precision", "tf32", "--data-dir", "/nonexistent"], "tf32 is a GPU"),
        (["report", "--threshold", "3", "--results", "/nonexistent"], "threshold"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def _train_cases():
    """Every framework on the row sequence; the permuted one, which the data layer builds the same for
    every framework, on PyTorch in make test and on the others in make test-all too."""
    return [
        pytest.param(
            framework.values[0],
            sequence,
            id=f"{sequence}-{framework.values[0]}",
            marks=[
                *framework.marks,
                *([pytest.mark.long] if sequence != "row" and framework.values[0] != "torch" else []),
            ],
        )
        for sequence in ("row", "permuted")
        for framework in framework_params()
    ]


@pytest.mark.frameworks  # trains every framework (in a child process): make test, not make test-fast
@pytest.mark.parametrize("framework, sequence", _train_cases())
def test_train_command_on_tiny_data(tiny_idx, framework, sequence):
    proc = cli(
        "train",
        "--framework",
        framework,
        "--sequence",
        sequence,
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--data-dir",
        str(tiny_idx),
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "unverified" in proc.stderr  # the tiny set is not MNIST, and is said so
    assert len(re.findall(r"^epoch \d/2: loss [\d.]+, test accuracy [\d.]+", proc.stderr, re.M)) == 2
    assert re.search(
        rf"{framework}/fused cpu float32 \({sequence} sequence\): test accuracy [\d.]+ after 2 epoch", proc.stdout
    )


@pytest.mark.frameworks
@pytest.mark.parametrize("framework", framework_params())
def test_train_bf16_on_tiny_data(tiny_idx, framework):

    args = (
        "train",
        "--framework",
        framework,
        "--precision",
        "bf16",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--data-dir",
        str(tiny_idx),
        "--no-progress",
    )
    variant = "fused"
    refused = impls.load(framework).unavailable("cpu", "bf16")
    if refused:  # this CPU has no bfloat16 kernel for the fused layer: a named refusal, then the cell loop
        proc = cli(*args)
        assert proc.returncode == 2 and "error: bf16 needs" in proc.stderr and "Traceback" not in proc.stderr
        variant = "cell"
    proc = cli(*args, "--variant", variant)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(
        rf"{framework}/{variant} cpu bf16 \(row sequence\): test accuracy [\d.]+ after 1 epoch", proc.stdout
    )


def test_unknown_variant_is_rejected():
    proc = cli("train", "--framework", "jax", "--variant", "xla", "--data-dir", ".")
    assert proc.returncode == 2 and "unknown variant 'xla' for jax" in proc.stderr


def run_cli(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "bench.cli", "report", *args], cwd=tmp_path, capture_output=True, text=True
    )


def test_cli_gate_exit_codes_and_files(results, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\nrest\n")
    proc = run_cli(tmp_path, "--fail-on-regression")
    assert proc.returncode == 1, proc.stderr
    assert "regression" in proc.stdout
    out = tmp_path / "results" / "report"
    for name in (
        "results.csv",
        "latest.md",
        "latest.csv",
        "index.html",
        "regressions.md",
        "throughput_box_cpu.png",
        "history_box_cpu.png",
    ):
        assert (out / name).is_file(), name
    text = readme.read_text()
    assert "\nold\n" not in text and "train samples/s @128" in text and text.endswith(f"{report.README_END}\nrest\n")
    assert run_cli(tmp_path).returncode == 0  # no gate asked for: report only
    missing = run_cli(tmp_path, "--base", "deadbeef")
    assert missing.returncode == 2 and "unknown revision" in missing.stderr


def test_cli_no_results_exits_2(tmp_path):
    proc = run_cli(tmp_path)
    assert proc.returncode == 2 and "no asv results" in proc.stderr


def test_a_bug_in_the_report_is_raised_not_turned_into_unreadable_files(tmp_path, monkeypatch):
    res = tmp_path / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )

    def bug(*args):
        raise KeyError("planted bug in the report")

    from bench.report import load

    monkeypatch.setattr(load, "_rows", bug)
    with pytest.raises(KeyError, match="planted bug"):
        report.load_results(res)


def test_an_internal_bug_is_one_line_exit_2_and_named_a_bug_not_bad_input(monkeypatch, capsys):
    """Exit 1 is a verdict (regression), so a bug of the tool must never end in it (a traceback's exit
    status): exit 2 with one line that says it is a bug; SEQMNIST_DEBUG=1 gives the traceback."""
    from bench import cli as cli_module
    from bench.cli import report as report_command

    def bug(args):
        raise ValueError("planted internal bug")

    parser = cli_module.build_parser()
    monkeypatch.setattr(report_command, "cmd_report", bug)
    monkeypatch.setattr(cli_module, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["report"].set_defaults(func=bug)
    monkeypatch.delenv("SEQMNIST_DEBUG", raising=False)
    assert cli_module.main(["report"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error, ValueError: planted internal bug" in err
    monkeypatch.setenv("SEQMNIST_DEBUG", "1")
    with pytest.raises(ValueError, match="planted internal bug"):
        cli_module.main(["report"])


def test_more_threads_than_cores_is_refused():
    n = len(os.sched_getaffinity(0)) + 1
    for args, env in (
        (["run", "--threads", str(n)], None),
        (["train", "--framework", "torch"], cli_env(SEQMNIST_THREADS=str(n))),
    ):
        proc = cli(*args, env=env)
        assert proc.returncode == 2 and "core" in proc.stderr and "Traceback" not in proc.stderr


def test_report_refuses_base_equal_head_and_bad_revisions_before_writing(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{report.README_START}\nold\n{report.README_END}\n")
    same = cli("report", "--base", BASE[:8], "--head", BASE[:8], cwd=tmp_path)
    assert same.returncode == 2 and "same commit" in same.stderr
    bad = cli("report", "--base", "nosuchrev", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown revision" in bad.stderr
    assert "\nold\n" in readme.read_text() and not (tmp_path / "results" / "report").exists()


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["run", "--bench", "("], {}, "not a regular expression"),
        (["compare", "HEAD", "HEAD", "--bench", "("], {}, "not a regular expression"),
        (["noise", "--seed", "99999999999999999999999"], {}, "must be in 0.."),
        (["compare", "HEAD~1", "HEAD", "--threshold", "abc"], {}, "expected a number, got 'abc'"),
        (["run", "--processes", "x"], {}, "expected an integer"),
        (
            ["run", "--quick"],
            {"SEQMNIST_ACCURACY_EPOCHS": "0"},
            "SEQMNIST_ACCURACY_EPOCHS='0': must be a positive integer",
        ),
        (["run", "--quick"], {"SEQMNIST_SEQUENCE_EPOCHS": "lots"}, "SEQMNIST_SEQUENCE_EPOCHS='lots'"),
        (["train", "--framework", "torch", "--seed", "-1"], {}, "must be in 0.."),
    ],
)
def test_bad_input_is_a_named_error_with_exit_2(args, env, message):
    proc = cli(*args, env=cli_env(**env))
    assert proc.returncode == 2, proc.stderr[-800:]
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_report_out_that_is_a_file_is_refused(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    (tmp_path / "taken").write_text("mine")
    proc = cli("report", "--out", "taken", cwd=tmp_path)
    assert proc.returncode == 2 and "not a folder" in proc.stderr and (tmp_path / "taken").read_text() == "mine"


def test_a_bench_regex_matching_nothing_is_exit_2_not_a_failure():
    proc = cli("run", "--bench", "NoSuchBench", "--frameworks", "torch")
    assert proc.returncode == 2 and "no benchmark matches --bench 'NoSuchBench'" in proc.stderr


def test_report_from_a_subfolder_writes_beside_the_results(tmp_path):
    (tmp_path / "asv.conf.json").write_text("{}")
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    sub = tmp_path / "bench"
    sub.mkdir()
    for args in ([], ["--results", "../results/asv"]):
        proc = cli("report", "--no-plots", *args, cwd=sub)
        assert proc.returncode == 0, proc.stderr
        assert not (sub / "results").exists() and (tmp_path / "results" / "report" / "latest.md").is_file()


def test_repeated_frameworks_and_devices_are_merged_where_they_are_parsed():
    """`run --devices cpu cpu` waited 2 x 900 s on one worker (two arms of one key): repeats are one."""
    from bench.cli import build_parser

    for command in (["run"], ["open-division"], ["settings"], ["compare", "a", "b"], ["bisect", "a", "b"]):
        args = build_parser().parse_args(
            [*command, "--frameworks", "torch", "jax", "torch", "--devices", "cpu", "cpu"]
            if command[0] != "settings"
            else [*command, "--frameworks", "torch", "jax", "torch"]
        )
        assert args.frameworks == ["torch", "jax"], command
        assert getattr(args, "devices", ["cpu"]) == ["cpu"], command
