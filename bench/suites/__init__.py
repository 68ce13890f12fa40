"""asv benchmark suites (asv.conf.json's benchmark_dir). No module here imports a framework:
each benchmark's setup does, in its own spawned process."""
