"""What the commands do, below the command line, one module each: `run` (run.py: asv plus the
paired-rounds engine over every framework), `compare` (compare.py: two revisions in paired rounds,
verdicts), `noise` (noise.py: the A/A check), `bisect` (bisect.py), `profile` (profile.py), `merge`
(merge.py: other runners' results brought in), `history` (history.py: the history kept on a git
branch) `open-division` (open_division.py: its run and the profiles of its open rows) and `settings`
(settings.py: the open division's system settings, the allocator, in paired rounds) and `report`
(report.py: tables, plots, page and the two gates from stored results); what `run`
gives asv and the rounds (selection.py), how it keeps the accuracy seeds (seeds.py), and the machine
key results go under (host.py)."""
