"""pandas as this harness uses it: text columns as Python objects, set once per process (the CLI's
entry and the tests' conftest), so every command and test builds the same frames."""

from __future__ import annotations

import warnings

import pandas as pd


def plain_strings() -> None:
    """pandas 3 stores text columns as Arrow strings. The harness's frames are small, many-columned and
    filtered thousands of times (a report's cells, the rounds' estimates), where Arrow's per-column take
    cost about half of a report's time (docs/design.md, "Report time"): object columns instead."""
    with warnings.catch_warnings():  # its deprecation: pandas 4 drops the option (constraints.txt pins 3.1)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        pd.set_option("future.infer_string", False)
