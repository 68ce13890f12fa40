"""Host peak RSS (asv peakmem) and accelerator peak memory from the framework's own allocator."""

import impls
from bench.workload.harness import DEVICES, FRAMEWORKS, MEMORY_STEPS, runnable, skip, synthetic_batch


def _train(model_cls, device):
    """Build and run MEMORY_STEPS train steps at batch 128; return the model."""
    model = model_cls(impls.LSTMConfig(), device=device)
    x, y = model.to_device(*model.check_batch(*synthetic_batch(128)))
    for _ in range(MEMORY_STEPS):
        result = model.step_on_device(x, y)
    model.synchronize(result)
    return model


class HostMemory:
    params = (list(FRAMEWORKS), list(DEVICES))
    param_names = ["framework", "device"]
    version = "1"
    timeout = 600

    def setup(self, framework, device):
        self.model_cls = runnable(framework, device)

    def peakmem_train(self, framework, device):
        """Peak RSS of the process: framework import + build + MEMORY_STEPS train steps at batch 128."""
        _train(self.model_cls, device)


class DeviceMemory:
    params = (list(FRAMEWORKS), list(DEVICES))
    param_names = ["framework", "device"]
    version = "1"
    timeout = 600

    def setup(self, framework, device):
        if device != "gpu":
            skip("device memory is measured on GPU only")
        self.model_cls = runnable(framework, device)

    def track_device_peak_memory(self, framework, device):
        return _train(self.model_cls, device).device_peak_bytes()

    track_device_peak_memory.unit = "bytes"
