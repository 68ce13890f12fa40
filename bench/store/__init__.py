"""The results store: the one record of a measurement and its identity key (record.py), where every
file under results/ lives (layout.py), asv result files written in one place (asv_results.py), the
engine's rounds kept beside them (rounds_file.py) and stored as each round finishes (run_store.py), what a run keeps of earlier results and which run measured each (provenance.py),
host identity (fingerprint.py), each run's environment record (run_meta.py), the run-to-run term
(reruns.py) and one measuring command at a time (lock.py)."""
