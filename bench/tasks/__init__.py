"""What the commands do, below the command line: `run` (run.py: asv plus the paired-rounds engine over
every framework), `compare` (compare.py: two revisions in paired rounds, verdicts), `noise` (noise.py:
the A/A check), `bisect` (bisect.py) and `profile` (profile.py); what `run` gives asv and the rounds (selection.py)
how it keeps the accuracy seeds (seeds.py), and the machine key results go under (host.py)."""
