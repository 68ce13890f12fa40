"""Each framework's minimal idiomatic training loop (its plugin's `minimal_loop`), timed like
TrainStep at batch 128, so the harness's overhead is visible as the ratio of the two."""

from bench.workload.harness import DEVICES, FRAMEWORKS, runnable, skip
from impls import LSTMModel

_STEPS: dict = {}


class MinimalLoop:
    params = (list(FRAMEWORKS), list(DEVICES), [128])
    process_order = 2  # after the train step's samples: a second model trained in the process (worker.py)
    param_names = ["framework", "device", "batch_size"]
    version = "3"  # 3: each process alone; 2: a plain process, no allocator setting (throughput.py)
    timeout = 600
    warmup_time = 0.5

    def setup(self, framework, device, batch_size):
        key = (framework, device, batch_size)
        if key not in _STEPS:
            cls = runnable(framework, device)  # an asv skip, with the reason, where the harness model cannot run
            if cls.minimal_loop.__func__ is LSTMModel.minimal_loop.__func__:
                skip(f"{framework} has no minimal idiomatic loop")
            # anything else that breaks is a failed benchmark, shown as failed beside the harness row
            step, sync = cls.minimal_loop(batch_size, device)
            for _ in range(3):
                sync(step())
            _STEPS[key] = (step, sync)
        self.step, self.sync = _STEPS[key]

    def time_minimal_train_step(self, framework, device, batch_size):
        self.sync(self.step())


class HostMatmul:
    """numpy's float32 2048x2048 matmul (the host calibration), timed inside each framework's process
    in the same paired rounds as its cells: the scale behind "% of host matmul peak", measured at the
    same moments as the cells it scales, with its own interval."""

    params = (list(FRAMEWORKS), list(DEVICES))
    param_names = ["framework", "device"]
    process_order = 3  # last: its 16 MiB arrays move glibc's malloc thresholds for what would come after
    version = "3"  # 3: each process alone; 2: a plain process, no allocator setting (throughput.py)
    timeout = 120
    warmup_time = 0.2
    size = 2048

    def setup(self, framework, device):
        import numpy as np

        if device != "cpu":
            skip("the host matmul scales CPU cells only")
        runnable(framework, device)  # the framework's thread budget, as its cells run under
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((self.size, self.size), dtype=np.float32)
        self.b = rng.standard_normal((self.size, self.size), dtype=np.float32)

    def time_host_matmul(self, framework, device):
        self.a @ self.b
