"""Where a run's paired rounds go, the moment each round finishes: this commit's rounds file and its asv
results, each rewritten atomically as what was stored before the run plus every round so far. No later
failure, interrupt or crash can take a finished round back, and the two stores always agree."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import interrupts
from bench.store import asv_results, layout, rounds_file


@dataclass
class RoundsStore:
    """One run's rounds over what the commit held before it. `append`: add to the stored processes of
    the same benchmarks (a full run onto full results); otherwise they replace them, parameter by
    parameter. `protected`: benchmarks whose stored full results this (quick) run must leave as they
    are: their rounds are neither stored nor mixed in. Reading the stored files here, before the first
    worker starts, is the run's check that they are whole (CorruptFile names the file)."""

    results_dir: Path
    machine: str
    commit: str
    env_name: str
    append: bool
    protected: frozenset[str] = frozenset()
    saved_rounds: int = 0  # rounds stored so far by this run
    _base_rounds: pd.DataFrame | None = field(default=None, repr=False)
    _base_results: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._base_rounds = rounds_file.load_for(self.results_dir, self.machine, self.commit)
        self._base_results = asv_results.load(self.results_dir, self.machine, self.commit, self.env_name)

    def save(self, frame: pd.DataFrame) -> None:
        """Store every round of `frame` (this run's rounds so far) over the base, atomically."""
        frame = frame[~frame.benchmark.isin(self.protected)]
        measured = frame[frame.benchmark != "(worker)"]
        if measured.empty:
            return
        res = (
            copy.deepcopy(self._base_results)
            if self._base_results is not None
            else asv_results.new_results(self.machine, self.commit, self.env_name)
        )
        asv_results.add_results(res, measured, self.append)
        merged = rounds_file.merged(self._base_rounds, frame, self.append)
        with interrupts.deferred():  # both files or neither: an interrupt between them waits
            if self._base_results is None:
                asv_results.ensure_machine(self.results_dir, self.machine)
            asv_results.save_results(res, self.results_dir)
            rounds_file.write(merged, layout.rounds_file(self.results_dir, self.machine, self.commit))
            self.saved_rounds = int(frame["round"].max())
