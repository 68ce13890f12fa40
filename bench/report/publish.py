"""Files: the tidy CSV/Parquet, latest.md/.csv/.html, and the README's results markers."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.text import csv_frame
from bench.report.load import latest_commits
from bench.report.sections import variants_tables
from bench.report.settings import section as settings_section
from bench.report.summary import readme_table
from bench.report.tables import _nothing_ran, comparison_table, header_line, render_markdown

README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def export_tidy(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "results.csv"]
    files.write_text(written[0], csv_frame(frame).to_csv(index=False))  # no stored text runs as a formula
    try:
        import pyarrow  # noqa: F401

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        files.write_bytes(out_dir / "results.parquet", buffer.getvalue())
        written.append(out_dir / "results.parquet")
    except ImportError:
        pass
    return written


def write_latest(frame: pd.DataFrame, out_dir: Path, settings: dict | None = None) -> tuple[list[Path], str | None]:
    """latest.md / .csv: the commit each machine shows (latest_commits), one table per device, and each
    machine's newest system-settings run (`settings`: machine -> report.settings.Found) (the page, index.html,
    is bench.report.page's). Returns the files and the CPU markdown for the README (readme_table)."""
    sections, csv_parts = [], []
    commits = latest_commits(frame)
    for machine, commit in sorted(commits.items()):
        header = header_line(frame, machine, commit)
        for device in ("cpu", "gpu"):
            table, notes = comparison_table(frame, machine, commit, device)
            variants = variants_tables(frame, machine, commit, device)
            if _nothing_ran(table):
                if variants:
                    sections.append("\n".join([f"**{device.upper()}** — {header}\n", *variants]))
                continue
            md = render_markdown(table, notes, header, device)
            found = (settings or {}).get(machine) if device == "cpu" else None
            sections.append("\n".join([md, *variants, *([settings_section(found).markdown()] if found else [])]))
            csv_parts.append(table.reset_index().assign(machine=machine, commit=commit, device=device))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "latest.md", out_dir / "latest.csv"]
    files.write_text(paths[0], "# Latest results\n\n" + "\n".join(sections))
    files.write_text(paths[1], csv_frame(pd.concat(csv_parts) if csv_parts else pd.DataFrame()).to_csv(index=False))
    (out_dir / "latest.html").unlink(missing_ok=True)  # replaced by index.html
    return paths, readme_table(frame, settings)


def update_readme(readme: Path, table_md: str) -> bool:
    """Replace the text between the results markers; False when the markers are absent."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    files.write_text(readme, f"{before}{README_START}\n{table_md}{README_END}{after}")
    return True
