"""bench/store/asv_results.py: a committed results file is named and filled without this machine's paths,
and asv still finds it under its own name for the next run to append to."""

from __future__ import annotations

import json
import os

import pytest
from asv_files import BASE, write_results

from bench.store import asv_results


def test_neutralize_and_expose_round_trip(tmp_path):
    res = tmp_path / "asv"
    env = "existing-py_home_someone_venv_bin_python3"
    name = "throughput.TrainStep.time_train_step"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {name: ([["'torch'"], ["'cpu'"], ["128"]], [0.01], [None])}, env=env
    )
    path = next((res / "box").glob(f"{BASE[:8]}-*.json"))
    data = json.loads(path.read_text())
    data["params"]["python"] = data["python"] = "/home/someone/venv/bin/python3"
    path.write_text(json.dumps(data))

    published = asv_results.neutralize(res, "box", BASE, env)
    assert published.name == f"{BASE[:8]}-existing-python.json" and not path.exists()
    text = published.read_text()
    assert "/home/someone" not in text and "home_someone" not in text
    assert json.loads(text)["env_name"] == "existing-python"

    asv_results.expose(res, "box", BASE, env)  # the next run: asv appends to the file it knows
    assert path.is_file() and not published.exists()
    assert json.loads(path.read_text())["env_name"] == env


@pytest.mark.parametrize("step", ["neutralize", "expose"])
def test_a_rename_killed_half_way_leaves_one_results_file_never_two(tmp_path, monkeypatch, step):
    res, env = tmp_path / "asv", "existing-py_home_someone_venv_bin_python3"
    name = "throughput.TrainStep.time_train_step"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {name: ([["'torch'"], ["'cpu'"], ["128"]], [0.01], [None])}, env=env
    )
    if step == "expose":
        asv_results.neutralize(res, "box", BASE, env)
    real, steps = {"replace": os.replace, "unlink": os.unlink}, []

    def step_on(op):  # the process dies at the second step that puts a results file in place or takes one away
        def do(*args, **kwargs):
            if str(args[-1]).endswith(".json"):
                steps.append(op)
                if len(steps) == 2:
                    raise SystemExit("killed")
            return real[op](*args, **kwargs)

        return do

    monkeypatch.setattr(os, "replace", step_on("replace"))
    monkeypatch.setattr(os, "unlink", step_on("unlink"))
    with pytest.raises(SystemExit):
        getattr(asv_results, step)(res, "box", BASE, env)
    assert len(list((res / "box").glob(f"{BASE[:8]}-*.json"))) == 1


def test_the_name_asv_gives_this_interpreter_is_computed_by_asv():
    from pathlib import Path

    name = asv_results.asv_env_name(Path(__file__).resolve().parents[2])
    assert name.startswith("existing-py") and "bin_python" in name


def _rows():
    from bench.store.record import Measurement, frame_of

    grid = [["'torch'"], ["'cpu'"], ["128"]]
    return frame_of(
        [
            Measurement(
                arm="torch:cpu",
                framework="torch",
                device="cpu",
                benchmark="throughput.TrainStep.time_train_step",
                param=0,
                params="torch, cpu, 128",
                key="128",
                round=r,
                value=0.01 + r / 1000,
                unit="seconds",
                version="v1",
                all_params=json.dumps(grid),
            )
            for r in (1, 2)
        ]
    )


def test_rounds_stored_for_a_machine_asv_has_no_record_of_still_make_a_results_folder(tmp_path, monkeypatch):
    """store() outside `run` (which registers the machine with `asv machine` first): asv's machine file
    (~/.asv-machine.json) lacks the name, and the machine.json written holds the name alone."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # asv reads ~/.asv-machine.json: none here
    results = tmp_path / "asv"
    path = asv_results.store(_rows(), results, "unregistered", BASE, "existing-py")
    assert path is not None and path.is_file()
    assert json.loads((results / "unregistered" / "machine.json").read_text())["machine"] == "unregistered"


def test_rounds_go_into_the_file_asv_will_write_when_none_exists_yet(tmp_path):
    """`run` takes its rounds before asv's part: they must land under the name asv writes, so the commit
    keeps one results file (asv adds its benchmarks to it) rather than two."""
    results = tmp_path / "asv"
    (results / "box").mkdir(parents=True)
    (results / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))  # no results yet
    name = asv_results.env_name(results, "box", BASE, "existing-py-here")
    assert name == "existing-py-here"
    asv_results.store(_rows(), results, "box", BASE, name)
    assert asv_results.env_name(results, "box", BASE, "other") == "existing-py-here"  # found again, not a second
