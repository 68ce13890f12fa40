"""Cold start in a fresh interpreter: import + build + the first (compiling) train step."""
import importlib.util

from bench.harness import DEVICES, FRAMEWORKS, skip

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

    def timeraw_cold_start(self, framework, device):
        # Checked here without importing the framework: this process must stay framework-free.
        if importlib.util.find_spec(framework) is None:
            skip(f"{framework} is not installed")
        return _CODE.format(framework=framework, device=device)
