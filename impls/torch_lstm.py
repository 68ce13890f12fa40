"""PyTorch implementation: torch.nn.LSTM (cuDNN on GPU) + torch.optim.Adam."""

from __future__ import annotations

import contextlib
import os

import numpy as np

from .base import LSTMModel, OpTime
from .threads import apply_thread_budget

DISTRIBUTIONS = ("torch",)
REQUIREMENT = "torch==2.13.0  (the CPU build; or seqmnist-bench[torch])"
PRELOAD = ("torch",)  # a fork server may import it once for every round's worker: forked workers measured
# what fresh ones do over 24 rounds (docs/validation.md, "Forked workers")
THREADS = apply_thread_budget()

import torch  # noqa: E402  (after the thread budget is set)
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)


def _set_tf32(on: bool) -> None:
    """TF32 for cuBLAS matmuls and cuDNN RNNs, through the per-operator API (torch >= 2.9): the
    legacy cudnn.allow_tf32 leaves the RNN flag, whose default is tf32, unset."""
    mode = "tf32" if on else "ieee"
    torch.backends.cuda.matmul.fp32_precision = mode
    torch.backends.cudnn.rnn.fp32_precision = mode


# Full float32 on GPU: TF32 is the named precision "tf32", never a silent default.
_set_tf32(False)


@contextlib.contextmanager
def _tf32():
    _set_tf32(True)
    try:
        yield
    finally:
        _set_tf32(False)


class _Net(torch.nn.Module):
    def __init__(self, n_input: int, n_hidden: int, n_classes: int):
        super().__init__()
        self.lstm = torch.nn.LSTM(n_input, n_hidden, batch_first=True)
        self.head = torch.nn.Linear(n_hidden, n_classes)
        # torch.nn.LSTM has two biases; the canonical model has one. bias_hh stays frozen at
        # zero so that Adam does not move the gate bias twice per step.
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


class _CellNet(_Net):
    """Explicit per-step cell loop from matmuls and gate nonlinearities, on the same parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lstm = self.lstm
        bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
        h = c = x.new_zeros(x.shape[0], lstm.hidden_size)
        for t in range(x.shape[1]):
            i, f, g, o = (x[:, t] @ lstm.weight_ih_l0.T + h @ lstm.weight_hh_l0.T + bias).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.head(h)


class TorchLSTM(LSTMModel):
    """Variant "fused": torch.nn.LSTM (oneDNN on CPU, cuDNN on GPU), eager."""

    framework = "torch"
    variant = "fused"
    net_class = _Net

    @classmethod
    def cpu_bf16_unavailable(cls) -> str | None:
        """oneDNN's fused LSTM has no bfloat16 kernel on CPUs without AVX512-BF16/AMX: the step would
        die inside autocast ("could not create a primitive descriptor"). The cell loop's matmuls run."""
        if cls.net_class is _Net and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return (
                "bf16 needs a CPU with bfloat16 support for oneDNN's fused LSTM (AVX512-BF16 or AMX); "
                "this one has none (torch.ops.mkldnn._is_mkldnn_bf16_supported() is False)"
            )
        return None

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        if device == "gpu" and not torch.cuda.is_available():
            return "torch sees no CUDA GPU (torch.cuda.is_available() is False)"
        return None

    @classmethod
    def gpu_capability(cls) -> tuple[str, tuple[int, int]]:
        return torch.cuda.get_device_name(), tuple(torch.cuda.get_device_capability())

    @classmethod
    def framework_version(cls) -> str:
        return torch.__version__

    @classmethod
    def gpu_name(cls) -> str | None:
        return torch.cuda.get_device_name(0)

    def device_peak_bytes(self) -> int:
        return int(torch.cuda.max_memory_allocated())

    @classmethod
    def minimal_loop(cls, batch_size: int, device: str):
        return minimal_loop(batch_size, device)

    @classmethod
    def matmul(cls, n: int, device: str):
        a = torch.rand(n, n, device="cuda" if device == "gpu" else "cpu")
        return lambda: (a @ a).sum().item()

    @classmethod
    def matmul_chain(cls, shapes, device: str):
        return matmul_chain(shapes, device)

    def profile(self, work, steps: int, trace_dir: str) -> list[OpTime]:
        return profile_ops(work, steps, trace_dir, self.device)

    def _autocast(self):
        """bf16: the forward pass under torch.autocast (backward follows its dtypes)."""
        if self.precision == "bf16":
            return torch.autocast(self.torch_device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _matmuls(self):
        """tf32: TF32 flags on for the whole step, forward and backward."""
        return _tf32() if self.precision == "tf32" else contextlib.nullcontext()

    def _build(self) -> None:
        self.torch_device = torch.device("cuda" if self.device == "gpu" else "cpu")
        torch.manual_seed(self.seed)
        cfg = self.config
        self.net = self.net_class(cfg.n_input, cfg.n_hidden, cfg.n_classes).to(self.torch_device)
        self.forward = self.net

    def _new_optimizer(self) -> torch.optim.Adam:
        cfg = self.config
        params = [p for p in self.net.parameters() if p.requires_grad]
        return torch.optim.Adam(params, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)

    def _set_weights(self, weights: dict[str, np.ndarray]) -> None:
        lstm, head = self.net.lstm, self.net.head
        with torch.no_grad():
            for param, value in [
                (lstm.weight_ih_l0, weights["lstm/kernel"].T),
                (lstm.weight_hh_l0, weights["lstm/recurrent_kernel"].T),
                (lstm.bias_ih_l0, weights["lstm/bias"]),
                (lstm.bias_hh_l0, np.zeros_like(weights["lstm/bias"])),
                (head.weight, weights["head/kernel"].T),
                (head.bias, weights["head/bias"]),
            ]:
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
        self.optimizer = self._new_optimizer()

    def get_weights(self) -> dict[str, np.ndarray]:
        lstm, head = self.net.lstm, self.net.head

        def np_(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().numpy().astype(np.float32)

        return {
            "lstm/kernel": np_(lstm.weight_ih_l0).T.copy(),
            "lstm/recurrent_kernel": np_(lstm.weight_hh_l0).T.copy(),
            "lstm/bias": np_(lstm.bias_ih_l0 + lstm.bias_hh_l0),
            "head/kernel": np_(head.weight).T.copy(),
            "head/bias": np_(head.bias),
        }

    def to_device(self, x: np.ndarray, y: np.ndarray | None = None):
        """Move a batch onto the model's device (benchmarks do this before timing)."""
        xt = torch.from_numpy(x).to(self.torch_device)
        return xt if y is None else (xt, torch.from_numpy(y.astype(np.int64)).to(self.torch_device))

    def step_on_device(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One Adam step on device tensors; returns the loss tensor without synchronizing."""
        self.optimizer.zero_grad(set_to_none=True)
        with self._matmuls():
            with self._autocast():
                logits = self.forward(x)
            loss = F.cross_entropy(logits.float(), y)
            loss.backward()
        self.optimizer.step()
        return loss.detach()

    def forward_on_device(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), self._matmuls(), self._autocast():
            return self.forward(x).float()

    def synchronize(self, result=None) -> None:
        if self.torch_device.type == "cuda":
            torch.cuda.synchronize()

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.step_on_device(*self.to_device(x, y)).item()

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward_on_device(self.to_device(x)).cpu().numpy()


class TorchCellLSTM(TorchLSTM):
    """Variant "cell": an explicit per-step loop of matmuls and gates, eager."""

    variant = "cell"
    net_class = _CellNet


class TorchCompiledLSTM(TorchLSTM):
    """Variant "compile": the fused model under torch.compile (inductor); compiles on first call."""

    variant = "compile"

    def _build(self) -> None:
        super()._build()
        self.forward = torch.compile(self.net)


class TorchNoOneDNNLSTM(TorchLSTM):
    """Variant "no-onednn": torch.nn.LSTM with oneDNN turned off for the step (the knob
    torch.backends.mkldnn offers): on a CPU, PyTorch's own per-step LSTM kernel instead of oneDNN's."""

    variant = "no-onednn"

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        if device == "gpu":
            return "no-onednn is a CPU knob (oneDNN is PyTorch's CPU library; a GPU runs cuDNN either way)"
        return super().device_unavailable(device)

    def step_on_device(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with _onednn_off():
            return super().step_on_device(x, y)

    def forward_on_device(self, x: torch.Tensor) -> torch.Tensor:
        with _onednn_off():
            return super().forward_on_device(x)


@contextlib.contextmanager
def _onednn_off():
    """oneDNN off, restored after (only the enabled flag: its TF32 and determinism flags stay as set)."""
    before = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(before)


class TorchMaxAutotuneLSTM(TorchLSTM):
    """Variant "compile-max-autotune": torch.compile's mode="max-autotune-no-cudagraphs" (inductor
    benchmarks its kernel choices while compiling; CUDA graphs left out, as the optimizer runs eager)."""

    variant = "compile-max-autotune"

    def _build(self) -> None:
        super()._build()
        self.forward = torch.compile(self.net, mode="max-autotune-no-cudagraphs")


def matmul_chain(shapes, device: str = "cpu"):
    """One (m x k) @ (k x n) per shape, then a sync: the step's matmuls alone."""
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    pairs = [(torch.rand(m, k, device=dev), torch.rand(k, n, device=dev)) for m, k, n in shapes]

    def run():
        for a, b in pairs:
            out = a @ b
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return out

    return run


def profile_ops(work, steps: int, trace_dir: str, device: str = "cpu") -> list[OpTime]:
    """torch.profiler over `steps` calls of work(): a Chrome/Perfetto trace.json in trace_dir, and each
    op's self time with its enclosing ops and annotations (Optimizer.step#Adam.step, autograd nodes).
    On GPU the kernels' device time is reported under the op that launched them."""
    # the profiler (and its kineto backend) loads only when a profile is taken, never for a benchmark
    from torch.profiler import ProfilerActivity, profile  # noqa: PLC0415

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "gpu" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            work()
    prof.export_chrome_trace(os.path.join(trace_dir, "trace.json"))
    ops = []
    for event in prof.events():
        parents, parent = [], event.cpu_parent
        while parent is not None:
            parents.append(parent.name)
            parent = parent.cpu_parent
        seconds = (event.self_device_time_total if device == "gpu" else event.self_cpu_time_total) / 1e6
        ops.append(OpTime(event.name, event.name, "/".join(reversed(parents)), seconds))
    return ops


def minimal_loop(batch_size: int, device: str = "cpu"):
    """The PyTorch tutorial loop: nn.LSTM + nn.Linear, CrossEntropyLoss, torch.optim.Adam."""
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(28, 128, batch_first=True)
            self.fc = torch.nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1, :])

    net = Net().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch_size, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch_size,), device=dev)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    def sync(_result):
        if dev.type == "cuda":
            torch.cuda.synchronize()

    return step, sync
