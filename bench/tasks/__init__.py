"""What the commands do, below the command line: `run` (run.py: asv plus the paired-rounds engine over
every framework), `compare` (two revisions in paired rounds, verdicts) and `noise` (the A/A check)."""
