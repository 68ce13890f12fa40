"""bench/store/asv_results.py: a committed results file is named and filled without this machine's paths,
and asv still finds it under its own name for the next run to append to."""

from __future__ import annotations

import json

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


def test_the_name_asv_gives_this_interpreter_is_computed_by_asv():
    from pathlib import Path

    name = asv_results.asv_env_name(Path(__file__).resolve().parents[2])
    assert name.startswith("existing-py") and "bin_python" in name
