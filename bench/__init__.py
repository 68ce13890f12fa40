"""seqmnist-bench harness: data, training, asv runner, reports and regression comparison.

Nothing here imports a deep-learning framework at module level; `impls.load` does, on demand.
"""
