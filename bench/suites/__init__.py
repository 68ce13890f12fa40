"""asv benchmark suites (asv.conf.json's benchmark_dir): throughput.py (train step and predict),
baseline.py (each framework's minimal loop), cold_start.py, memory.py, accuracy.py and the heavy
variants (variants.py). No module here imports a framework: each benchmark's setup does, in its own
spawned process."""
