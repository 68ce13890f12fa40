"""asv results -> tidy pandas DataFrame -> published tables, plots and regression verdicts.

One module per stage, as psf/pyperf separates loading, formatting and comparing:
load.py (asv results and run metadata -> the frame, unreadable files refused or skipped by corrupt.py, their shape checked by shapes.py, what each value means from
bench/workload/benchmarks.py), paired.py (the stored rounds' intervals joined to it), tables.py (the comparison table),
sections.py (the variants sections), summary.py (the answer sentences, the README's block),
open_division.py (the open division's table), settings.py (what each system setting buys), hosts.py (machine keys of one kind shown together),
breakdowns.py (where the step time goes), changes.py (change points in the history), verdicts.py
(two separate runs compared), plots.py, page.py (index.html), publish.py (files and the README markers).
"""

from __future__ import annotations

from bench.report.breakdowns import breakdown_table, load_profiles, plot_breakdowns
from bench.report.changes import change_points, change_text, newest_worse
from bench.report.corrupt import Corrupt
from bench.report.hosts import load_hosts
from bench.report.load import ReportError, commit_rows, latest_commits, load_results
from bench.report.page import write_page
from bench.report.plots import plot_answer, plot_history, plot_ratios, plot_scaling, plot_throughput
from bench.report.publish import README_END, README_START, export_tidy, update_readme, write_latest
from bench.report.sections import variants_tables
from bench.report.settings import load_latest as load_settings
from bench.report.summary import readme_table
from bench.report.tables import comparison_table, header_line, latest_tables, render_markdown
from bench.report.verdicts import (
    gate_status,
    pick_revisions,
    render_regressions,
    resolve_commit,
    verdicts_between,
)
from bench.workload.benchmarks import METRICS, Metric, display_value, metric_of

__all__ = [
    "METRICS",
    "Corrupt",
    "README_END",
    "README_START",
    "Metric",
    "ReportError",
    "breakdown_table",
    "change_points",
    "change_text",
    "commit_rows",
    "verdicts_between",
    "comparison_table",
    "display_value",
    "export_tidy",
    "gate_status",
    "header_line",
    "latest_commits",
    "latest_tables",
    "load_settings",
    "load_hosts",
    "load_profiles",
    "load_results",
    "metric_of",
    "newest_worse",
    "pick_revisions",
    "plot_answer",
    "plot_breakdowns",
    "plot_history",
    "plot_ratios",
    "plot_scaling",
    "plot_throughput",
    "readme_table",
    "render_markdown",
    "render_regressions",
    "resolve_commit",
    "update_readme",
    "variants_tables",
    "write_latest",
    "write_page",
]
