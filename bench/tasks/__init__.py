"""What the commands do, below the command line: `run` (run.py: asv plus the paired-rounds engine over
every framework), `compare` (compare.py: two revisions in paired rounds, verdicts), `noise` (noise.py:
the A/A check), `bisect` (bisect.py) and `profile` (profile.py)."""
