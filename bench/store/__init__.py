"""The results store: where every file under results/ lives (layout.py), asv result files written in
one place (asv_results.py), and the engine's rounds kept beside them (rounds_file.py)."""
