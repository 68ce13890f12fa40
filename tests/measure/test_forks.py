"""bench/measure/forks.py and the fork server (client.Zygote, worker.py --zygote): rounds whose workers
are forked from a server that imported the framework once cost one import, not one per round, and each
worker is still a new process; a framework whose import starts a thread is never forked, said once."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from bench.core.repo import worker_env
from bench.measure import rounds
from bench.measure.forks import ForkServers

pytestmark = pytest.mark.slow

SUITE = textwrap.dedent("""
    import os

    with open(os.environ["FAKE_WORKERS"], "a") as f:  # once per worker: its discovery imports this module
        f.write(f"{os.getpid()} {os.getppid()}\\n")


    class Step:
        params = (["jax"], ["cpu"], [1])
        param_names = ["framework", "device", "n"]

        def setup(self, framework, device, n):
            import fakefw  # noqa: F401  (the framework, as the real suites import theirs in setup)

            self.n = n

        def time_step(self, framework, device, n):
            sum(range(2000 * self.n))
""")

FRAMEWORK = textwrap.dedent("""
    import os, threading, time

    if os.environ.get("FAKE_THREAD"):  # a framework that starts a thread at import
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    time.sleep(float(os.environ.get("FAKE_IMPORT_SECONDS", "0")))  # and one whose import takes this long
    with open(os.environ["FAKE_IMPORTS"], "a") as f:
        f.write(f"{os.getpid()}\\n")
""")


def tree(tmp_path: Path, **settings: str) -> tuple[Path, dict]:
    (tmp_path / "bench" / "suites").mkdir(parents=True)
    (tmp_path / "bench" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "fake.py").write_text(SUITE)
    (tmp_path / "fakefw.py").write_text(FRAMEWORK)
    env = dict(
        worker_env(tmp_path, None), FAKE_IMPORTS=str(tmp_path / "imports"), FAKE_WORKERS=str(tmp_path / "workers")
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    env.update(settings)
    return tmp_path, env


def three_rounds(root: Path, env: dict, forks: ForkServers) -> rounds.Rounds:
    arm = rounds.Arm("jax:cpu", root, "jax", "cpu")
    plan = rounds.Plan(bench=r"^fake\.", sample_time=0.001, alternations=1, min_rounds=3, max_rounds=3, settle=0)
    try:
        return rounds.run_rounds([arm], plan, env, start=forks)
    finally:
        forks.close()


def lines(path: Path) -> list[list[int]]:
    return [[int(x) for x in line.split()] for line in path.read_text().splitlines()]


def test_n_rounds_cost_one_import_and_each_round_has_a_new_forked_process(tmp_path):
    root, env = tree(tmp_path, FAKE_IMPORT_SECONDS="2")
    said: list[str] = []
    done = three_rounds(root, env, ForkServers(log=said.append, preload=lambda fw: ("fakefw",)))
    assert done.frame.status.eq("ok").all() and done.frame["round"].nunique() == 3, done.frame.reason.tolist()
    (server,) = lines(root / "imports")  # one import in all, in the fork server
    workers = lines(root / "workers")
    assert len(workers) == 3 and len({pid for pid, _ in workers}) == 3  # a new process every round
    assert all(parent == server[0] and pid != server[0] for pid, parent in workers)  # forked after the import
    assert said == []


def test_a_framework_that_starts_a_thread_at_import_is_never_forked_and_the_run_says_so_once(tmp_path):
    root, env = tree(tmp_path, FAKE_THREAD="1")
    said: list[str] = []
    done = three_rounds(root, env, ForkServers(log=said.append, preload=lambda fw: ("fakefw",)))
    assert done.frame.status.eq("ok").all(), done.frame.reason.tolist()
    workers = lines(root / "workers")
    assert len(workers) == 3 and all(parent == os.getpid() for _, parent in workers)  # fresh, this process's
    assert len(lines(root / "imports")) == 1 + 3  # the refused server's import, then each worker's own
    assert len(said) == 1 and "jax:cpu: fresh processes" in said[0] and "thread" in said[0], said


def test_without_a_declared_preload_every_worker_starts_fresh(tmp_path):
    root, env = tree(tmp_path)
    forks = ForkServers(preload=lambda fw: ())
    three_rounds(root, env, forks)
    assert len(lines(root / "imports")) == 3 and forks.imports == {}


def test_fresh_processes_start_no_server_even_where_one_is_declared(tmp_path):
    """--fresh-processes: every worker a new interpreter of this process's, its own import each round."""
    root, env = tree(tmp_path)
    forks = ForkServers(preload=lambda fw: ("fakefw",), fresh=True)
    three_rounds(root, env, forks)
    workers = lines(root / "workers")
    assert len(lines(root / "imports")) == 3 and forks.imports == {}
    assert len(workers) == 3 and all(parent == os.getpid() for _, parent in workers)
