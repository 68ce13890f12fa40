"""The training loop shared by `seqmnist-bench train` and the accuracy benchmarks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.workload.data import Dataset, as_sequence, batch_indices


@dataclass
class EvalPoint:
    epoch: float  # fractional epochs trained when measured
    train_seconds: float  # training time so far, evaluation excluded
    accuracy: float
    steps: int = 0  # optimizer steps taken when measured


@dataclass
class TrainResult:
    framework: str
    device: str
    epochs: int
    batch_size: int
    steps: int
    train_seconds: float
    final_loss: float
    history: list[EvalPoint] = field(default_factory=list)

    @property
    def test_accuracy(self) -> float:
        return self.history[-1].accuracy if self.history else float("nan")

    @property
    def samples_per_second(self) -> float:
        return self.steps * self.batch_size / self.train_seconds if self.train_seconds else float("nan")

    def time_to_accuracy(self, target: float) -> float | None:
        """Training seconds until test accuracy first reached `target`; None if it never did."""
        return next((p.train_seconds for p in self.history if p.accuracy >= target), None)

    def steps_to_accuracy(self, target: float) -> int | None:
        """Optimizer steps until test accuracy first reached `target` (checked every eval): the part of
        time to accuracy that equivalent implementations share; None if it never did."""
        return next((p.steps for p in self.history if p.accuracy >= target), None)


def train(
    model,
    data: Dataset,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    eval_every: int | None = None,
    stop_at: float | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    sequence: str = "row",
) -> TrainResult:
    """Train `model` on `data` in the seeded batch order, evaluating on the test set after each
    epoch (and every `eval_every` steps if given); stop early once accuracy >= `stop_at`.
    `log` receives one line per epoch (loss, test accuracy, samples/s); `sequence` picks the view
    of each image (row, pixel, permuted) and must match the model's config."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    train_x, test_x = as_sequence(data.train_x, sequence), as_sequence(data.test_x, sequence)
    steps_per_epoch = len(data.train_x) // batch_size
    bar = _progress_bar(epochs * steps_per_epoch, f"{model.framework}/{model.device}", progress)
    result = TrainResult(model.framework, model.device, epochs, batch_size, 0, 0.0, float("nan"))

    def evaluate() -> bool:
        acc = model.evaluate(test_x, data.test_y)
        result.history.append(EvalPoint(result.steps / steps_per_epoch, result.train_seconds, acc, result.steps))
        bar.set_postfix_str(f"loss {result.final_loss:.4f} test acc {acc:.4f}")
        return stop_at is not None and acc >= stop_at

    tick = time.perf_counter()
    for epoch, idx in batch_indices(len(data.train_x), batch_size, seed, epochs):
        result.final_loss = model.train_step(train_x[idx], data.train_y[idx])
        result.steps += 1
        bar.update(1)
        end_of_epoch = result.steps % steps_per_epoch == 0
        if end_of_epoch or (eval_every and result.steps % eval_every == 0):
            result.train_seconds += time.perf_counter() - tick
            stop = evaluate()
            if end_of_epoch and log:
                bar.clear()
                log(
                    f"epoch {epoch + 1}/{epochs}: loss {result.final_loss:.4f}, test accuracy "
                    f"{result.test_accuracy:.4f}, {result.samples_per_second:,.0f} samples/s"
                )
                bar.refresh()
            if stop:
                break
            tick = time.perf_counter()
        elif result.steps % 20 == 0:
            elapsed = result.train_seconds + time.perf_counter() - tick
            bar.set_postfix_str(f"loss {result.final_loss:.4f} {result.steps * batch_size / elapsed:,.0f} samples/s")
    bar.close()
    return result


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, file=sys.stderr, dynamic_ncols=True)
