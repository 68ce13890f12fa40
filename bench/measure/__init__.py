"""The measurement layer: worker processes (worker.py runs inside one, client.py drives it), the one
paired-rounds engine behind every published number (rounds.py) and what its rounds estimate
(estimate.py). Imports the core and the statistics; no framework."""
