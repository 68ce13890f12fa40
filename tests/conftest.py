"""Shared fixtures: which frameworks are installed, tiny IDX data sets, small batches."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import impls
from bench.core import frames

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests in sub-folders import tests/asv_files.py
from asv_files import ACC, BASE, FW, FW2, HEAD, base_values, ci, variant_values, write_results

frames.plain_strings()  # the frames every command builds (bench/cli's entry does the same)

REAL_MNIST = os.environ.get("SEQMNIST_DATA_DIR")
# Test only these frameworks (comma-separated): how tests/impls/test_plugins.py runs the framework tests
# for a plugin that cannot share a process with the others (Keras holds one backend per process).
SELECTED = os.environ.get("SEQMNIST_TEST_FRAMEWORKS")


def _availability():
    """Each framework and why this test process does not test it (None: it does). Cached: importing
    a framework is slow, and the answer does not change within a run."""
    if not hasattr(_availability, "cache"):
        from impls.registry import plugins

        cache = {}
        for name, plugin in plugins().items():
            if SELECTED is not None:
                cache[name] = None if name in SELECTED.split(",") else "not selected (SEQMNIST_TEST_FRAMEWORKS)"
            elif not plugin.shares_process:
                cache[name] = (
                    f"{name} cannot share a process with the other frameworks: "
                    "tests/impls/test_plugins.py runs these tests for it in a process of its own"
                )
            else:
                cache[name] = None
            if cache[name] is None:
                try:
                    impls.load(name)
                except impls.FrameworkUnavailable as exc:
                    cache[name] = str(exc)
        _availability.cache = cache
    return _availability.cache


def tested_frameworks() -> list[str]:
    """The frameworks this test process tests."""
    return [name for name, reason in _availability().items() if reason is None]


def framework_params():
    """One pytest param per framework; absent ones are skipped with the reason, not failed."""
    return [
        pytest.param(name, marks=pytest.mark.skipif(reason is not None, reason=str(reason)))
        for name, reason in _availability().items()
    ]


def variant_params(long_beyond_default: bool = False):
    """One pytest param per (framework, variant), e.g. "tensorflow-xla"; absent frameworks skip. With
    `long_beyond_default`, a framework's variants other than its default (the first) are marked `long`:
    make test checks the default, make test-all every variant."""
    return [
        pytest.param(
            (name, variant),
            id=f"{name}-{variant}",
            marks=[
                pytest.mark.skipif(reason is not None, reason=str(reason)),
                *([pytest.mark.long] if long_beyond_default and variant != impls.VARIANTS[name][0] else []),
            ],
        )
        for name, reason in _availability().items()
        for variant in impls.VARIANTS[name]
    ]


def write_idx(path: Path, array: np.ndarray, magic: int | None = None, gz: bool = True) -> Path:
    """Write an unsigned-byte IDX file (gzip-compressed when gz)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x00000800 | array.ndim
    raw = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def clone_with_tiny_data(base: Path) -> tuple[Path, Path]:
    """A git clone of this repository (committed state, as a pull request would arrive) in base/repo,
    and a tiny MNIST-format set of 256 train and 64 test images in base/tiny."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    repo = base / "repo"
    subprocess.run(["git", "clone", "--quiet", str(root), str(repo)], check=True)
    data = base / "tiny"
    data.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 256), ("t10k", 64)):
        write_idx(data / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(data / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))
    return repo, data


@pytest.fixture
def tiny_idx(tmp_path) -> Path:
    """A folder of four tiny MNIST-format IDX files: 64 train and 32 test images."""
    rng = np.random.default_rng(1)
    for split, n in (("train", 64), ("t10k", 32)):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))
    return tmp_path


@pytest.fixture
def batch():
    rng = np.random.default_rng(7)
    return rng.random((16, 28, 28), dtype=np.float32), rng.integers(0, 10, 16)


@pytest.fixture
def results(tmp_path):
    return example_results(tmp_path)


def example_results(folder: Path) -> Path:
    """Two commits of machine `box` under folder/results/asv, with planted changes (below)."""
    res = folder / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, base_values())
    head = base_values()
    # torch train step: planted 30% slowdown; tensorflow: 3% wobble inside its CI
    head["throughput.TrainStep.time_train_step"] = (FW, [0.013, 0.0206, 0.015], [ci(0.013), ci(0.0206), ci(0.015)])
    # torch predict: 15% slower but its interval (+-20%) overlaps the base's: noise, not a verdict
    # jax predict: 30% faster; tensorflow predict failed at head (null)
    head["throughput.Predict.time_predict"] = (FW, [0.0046, None, 0.0042], [ci(0.0046, 0.2), None, ci(0.0042)])
    # jax accuracy dropped 97.9% -> 97.0% (error 0.021 -> 0.030)
    head["accuracy.Accuracy.track_test_error"] = (ACC, [0.021, 0.021, 0.030], [None, None, None])
    # cold start: jax skipped at head (NaN) -> gone
    head["cold_start.ColdStart.timeraw_cold_start"] = (FW2, [1.5, 3.0, float("nan")], [ci(1.5), ci(3.0), None])
    write_results(res, "box", HEAD, 1_700_000_100_000, head)
    return res


@pytest.fixture
def variant_results(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, variant_values())
    # torch cell 40% slower, jax bf16 accuracy 98.0% -> 90.0%, torch matmul peak 200 -> 150 GFLOP/s
    write_results(res, "box", HEAD, 1_700_000_100_000, variant_values(0.07, 0.10, 150.0))
    return res


ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None, env=None, **kw):
    """`seqmnist-bench ARGS` as this tree's code runs it, from any folder (a clone's own bench/ included:
    the tests test the tree they are in; tests/end_to_end run a clone's committed code on purpose)."""
    here = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", here, *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env, **kw
    )


def cli_env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


def pytest_configure(config):
    """A parallel test pass (pytest-xdist, no more workers than cores): each worker, and every process
    it starts, on a core of its own, so frameworks size their pools to one core (impls/threads.py) and
    workers never fight for a core (two 2-thread frameworks on 2 cores spin: a 48 s training took
    200 s). Before any framework is imported; a pass without xdist (the timed tests) keeps every core."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if worker.startswith("gw") and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if 1 < count <= len(cores):
            os.sched_setaffinity(0, [cores[int(worker[2:]) % len(cores)]])


def pytest_collection_modifyitems(config, items):
    """tests/impls/ builds and trains every installed framework's models in the test process: marked
    `frameworks`, so `make test-fast` (-m "not slow and not frameworks") leaves them to `make test`."""
    for item in items:
        if "impls" in Path(str(item.fspath)).parent.name.split("/"):
            item.add_marker(pytest.mark.frameworks)


def make_repo(repo: Path, commits: int = 2) -> list[str]:
    """A git repository the harness recognises (an asv.conf.json) with `commits` commits; their hashes,
    oldest first. For tests of revisions, worktrees and branches that measure nothing."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "asv.conf.json").write_text("{}")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    hashes = []
    for n in range(commits):
        (repo / "f.txt").write_text(str(n))
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-qm", f"commit {n}"], cwd=repo, check=True)
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        hashes.append(out.stdout.strip())
    return hashes


PLUGIN = '''
"""A float64 NumPy LSTM (the tests' reference maths) as a framework plugin from outside the repository."""
import numpy as np

from impls.base import LSTMModel
from reference import ReferenceAdam, forward

DISTRIBUTIONS = ("numpy",)
REQUIREMENT = "numpy"


class NumpyLSTM(LSTMModel):
    framework = "numpy-ref"
    variant = "fused"

    @classmethod
    def device_unavailable(cls, device):
        return None if device == "cpu" else "numpy has no GPU"

    @classmethod
    def framework_version(cls):
        return np.__version__

    def _build(self):
        self.ref = None

    def _set_weights(self, weights):
        c = self.config
        self.ref = ReferenceAdam(weights, c.learning_rate, c.beta1, c.beta2, c.eps)

    def get_weights(self):
        return {k: v.astype(np.float32) for k, v in self.ref.w.items()}

    def _train_step(self, x, y):
        return self.ref.step(x, y)

    def _predict(self, x):
        return forward(self.ref.w, x)[0]

    def to_device(self, x, y=None):
        return x if y is None else (x, y)

    def step_on_device(self, x, y):
        return self.ref.step(x, y)

    def forward_on_device(self, x):
        return forward(self.ref.w, x)[0]

    def synchronize(self, result=None):
        pass
'''


def numpy_plugin(folder: Path, source: str = PLUGIN) -> Path:
    """`folder` holding a plugin module (`source`) and the dist-info that registers its entry point."""
    (folder / "numpy_lstm_plugin.py").write_text(textwrap.dedent(source))
    info = folder / "numpy_lstm_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy-lstm-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[seqmnist_bench.frameworks]\nnumpy-ref = numpy_lstm_plugin\n")
    return folder


def plugin_env(plugin_dir: Path) -> dict:
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(plugin_dir), str(ROOT / "tests")]),
        SEQMNIST_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
