"""The workload: every benchmark as data, the one table of names and meanings (benchmarks.py), MNIST (data.py), the training loop (train.py), staging a model for timing and the
accuracy runs (harness.py, accuracy_job.py), probing what can run here (probe.py), and one
framework's steps under its profiler (profile.py) sorted into categories (breakdown.py)."""
