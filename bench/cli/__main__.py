"""`python -m bench.cli`: the same as the `seqmnist-bench` command."""

from bench.cli import entry

entry()
