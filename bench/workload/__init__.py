"""The workload: MNIST (data.py), the training loop (train.py), staging a model for timing and the
accuracy runs (harness.py, accuracy_job.py), and probing what can run here (probe.py)."""
