"""The measurement layer: worker processes (worker.py runs inside one, client.py drives it, forks.py forks them from a
server that imported the framework once), the one
paired-rounds engine behind every published number (rounds.py, its clock in sampler.py), what its rounds estimate
(estimate.py), the open division's declared system settings (settings.py: the allocators) and the
statistics behind every interval and verdict (stats.py). Imports the core;
no framework."""
