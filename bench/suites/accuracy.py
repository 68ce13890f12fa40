"""Test accuracy after a fixed budget on real MNIST, and training time to 0.97 accuracy.

Both come from training runs with seeds 0, 1, 2 ($SEQMNIST_ACCURACY_SEEDS; init and batch order) per
framework and device, done in setup_cache by a separate process each (bench.workload.accuracy_job): the stored
value is the median over seeds and, through the runner, each seed's value is one asv sample, so that
an accuracy change is judged against the seed-to-seed spread. asv treats lower as better, so accuracy
is stored as the test error rate (1 - accuracy); the report turns it back.
"""

from bench.workload.harness import DEVICES, FRAMEWORKS, accuracy_epochs, accuracy_seeds, train_runs, trained_run


class Accuracy:
    params = (list(FRAMEWORKS), list(DEVICES), [accuracy_epochs()])
    param_names = ["framework", "device", "epochs"]
    version = "2"  # 2: the median over seeds (1: seed 0 alone)
    timeout = 3600

    def setup_cache(self):
        return train_runs(accuracy_epochs(), "precision", ["float32"], seeds=accuracy_seeds())

    setup_cache.timeout = 7200

    def setup(self, runs, framework, device, epochs):
        self.run = trained_run(runs, f"{framework}:{device}:float32")

    def track_test_error(self, runs, framework, device, epochs):
        """1 - test accuracy after `epochs` epochs (batch 128), the median over seeds."""
        return 1.0 - self.run["test_accuracy"]

    track_test_error.unit = "error rate"

    def track_time_to_accuracy(self, runs, framework, device, epochs):
        """Training seconds (evaluation excluded) until test accuracy first reached 0.97, the median over
        the seeds that reached it; NaN (n/a) when the budget of `epochs` epochs ended first for most seeds."""
        reached = self.run["time_to_accuracy"]
        return float("nan") if reached is None else reached

    track_time_to_accuracy.unit = "seconds"

    def track_steps_to_accuracy(self, runs, framework, device, epochs):
        """Optimizer steps until test accuracy first reached 0.97 (checked every 100 steps), the median over
        the seeds that reached it: the same in every framework when the implementations are equivalent
        (same init, same batches), so time to accuracy = steps x seconds per step."""
        reached = self.run.get("steps_to_accuracy")
        return float("nan") if reached is None else float(reached)

    track_steps_to_accuracy.unit = "steps"
