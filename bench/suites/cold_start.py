"""Cold start in a fresh interpreter: import + build + the first (compiling) train step."""

import importlib.util
import json
import subprocess
import sys

from bench.workload.harness import DEVICES, FRAMEWORKS, skip

_CODE = """
import numpy as np
import impls
model = impls.load({framework!r})(impls.LSTMConfig(), device={device!r})
rng = np.random.default_rng(0)
model.train_step(rng.random((128, 28, 28), dtype=np.float32), rng.integers(0, 10, 128))
"""


class ColdStart:
    params = (list(FRAMEWORKS), list(DEVICES))
    param_names = ["framework", "device"]
    version = "1"
    timeout = 600
    repeat = (1, 5, 60.0)
    number = 1

    def setup(self, framework, device):
        # Checked without importing the framework here: this process must stay framework-free (`run`
        # has already probed each framework in a child process and runs only the available ones).
        from impls.registry import plugins

        if framework not in plugins() or importlib.util.find_spec(plugins()[framework].module) is None:
            skip(f"{framework} is not installed")
        if device != "cpu":  # asking a framework about GPUs imports it: do that in a child process
            probe = subprocess.run(
                [sys.executable, "-m", "bench.workload.probe", framework], capture_output=True, text=True
            )
            reason = json.loads(probe.stdout)["devices"].get(device) if probe.returncode == 0 else probe.stderr[-500:]
            if reason:
                skip(reason)

    def timeraw_cold_start(self, framework, device):
        return _CODE.format(framework=framework, device=device)
