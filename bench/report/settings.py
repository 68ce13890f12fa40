"""The open division's system settings (`seqmnist-bench settings`): each framework's gain from each
setting over its plain process, from per-round pairs in the same rounds (estimate.ratios against the
closed arm), as a table, the sentences the page and README say, and where a library was missing. An
open row counts only where its 95% interval proves it faster: the lower end of the gain above zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.text import md_text
from bench.measure import estimate
from bench.report.corrupt import Corrupt, readable
from bench.report.sections import Section
from bench.store import rounds_file
from bench.workload.benchmarks import metric_of

WHAT = {"train_step": "training", "predict": "inference"}  # the questions a gain answers, at batch 128


@dataclass
class Found:
    """One stored `settings` run: its rounds and its description (settings, skipped, rounds)."""

    path: Path
    rounds: pd.DataFrame
    meta: dict = field(default_factory=dict)

    @property
    def commit(self) -> str:
        return str(self.meta.get("commit", self.path.stem.split("-")[0]))

    def says(self, setting: str) -> str:
        return str((self.meta.get("settings") or {}).get(setting, {}).get("says", setting))


def read(path: Path) -> Found:
    """A settings run's rounds file and the description beside it (CorruptFile naming either)."""
    described = path.with_suffix(".json")
    return Found(path, rounds_file.load(path), files.read_json(described) if described.is_file() else {})


def load_latest(results_root: Path, corrupt: Corrupt | None = None) -> dict[str, Found]:
    """Per machine, its newest stored settings run (results/settings/<machine>/*.csv, by the date inside);
    a file that cannot be read is a CorruptFile, or with `corrupt`, skipped there."""
    found: dict[str, Found] = {}
    folder = Path(results_root) / "settings"
    for machine_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        runs = [f for p in sorted(machine_dir.glob("*.csv")) if (f := readable(p, read, corrupt)) is not None]
        if runs:
            found[machine_dir.name] = max(runs, key=lambda f: str(f.meta.get("date", "")))
    return found


def gains(found: Found) -> pd.DataFrame:
    """One row per framework x setting x question: the throughput gain over the plain process (0.18 = 18%
    more samples/s) with its 95% interval, the rounds behind it, and whether the interval proves it."""
    out = []
    ok = found.rounds[found.rounds.status == "ok"]
    for framework, rows in ok.groupby("framework", sort=False):
        closed = next((a for a in rows.arm.unique() if "@" not in a), None)
        if closed is None:
            continue
        for r in estimate.ratios(rows, closed).itertuples():
            out.append(
                {
                    "framework": framework,
                    "setting": r.arm.split("@", 1)[1],
                    "metric": metric_of(r.benchmark),
                    "gain": 1 / r.ratio - 1,
                    "low": 1 / r.high - 1,
                    "high": 1 / r.low - 1,
                    "rounds": r.rounds,
                }
            )
    frame = pd.DataFrame(out, columns=["framework", "setting", "metric", "gain", "low", "high", "rounds"])
    return frame.assign(proved=frame.low > 0)


def _cell(g: pd.DataFrame) -> str:
    parts = []
    for r in g.itertuples():
        interval = f"[{r.low:+.0%}, {r.high:+.0%}]" if pd.notna(r.low) and r.rounds >= 2 else "(too few rounds)"
        parts.append(f"{WHAT.get(r.metric, r.metric)} {r.gain:+.0%} {interval}" + (" ✓" if r.proved else ""))
    return " · ".join(parts)


def table(found: Found) -> pd.DataFrame:
    """Framework x setting: each question's gain and interval, ✓ where it proves the setting faster; a
    setting whose library is missing says so in its column."""
    g = gains(found)
    skipped = found.meta.get("skipped") or {}
    shown = set(g.setting) | set(skipped)
    declared = [s for s in (found.meta.get("settings") or {}) if s in shown]  # the search space's order
    columns = list(dict.fromkeys([*declared, *g.setting.unique()]))
    rows = {}
    for framework in dict.fromkeys(found.rounds.framework):
        mine = g[g.framework == framework]
        rows[framework] = {
            s: (
                _cell(mine[mine.setting == s])
                if s in set(mine.setting)
                else f"skipped: {skipped.get(s, 'not measured')}"
            )
            for s in columns
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("framework")


def sentences(found: Found) -> list[str]:
    """What each setting proves it buys ("keras-torch training +18% [+9%, +27%] with jemalloc, preloaded"),
    then what was not proved and what was skipped. Markdown (outside names escaped)."""
    g = gains(found)
    rounds = int(g.rounds.max()) if len(g) else 0
    proved = g[g.proved].sort_values("gain", ascending=False)
    lines = [
        f"{md_text(r.framework)} {WHAT.get(r.metric, r.metric)} {r.gain:+.0%} [{r.low:+.0%}, {r.high:+.0%}] with "
        f"{md_text(found.says(r.setting))}"
        for r in proved.itertuples()
    ]
    rest = g[~g.proved]
    if len(rest):
        lines.append(
            f"not proved faster ({rounds} paired rounds): "
            + ", ".join(
                f"{md_text(r.framework)} {WHAT.get(r.metric, r.metric)} with {md_text(r.setting)}"
                for r in rest.itertuples()
            )
        )
    for name, why in (found.meta.get("skipped") or {}).items():
        lines.append(f"{md_text(name)} skipped: {md_text(why)}")
    return lines


def section(found: Found) -> Section:
    """The page's and latest.md's table of one machine's newest settings run, with how to read it."""
    g = gains(found)
    rounds = int(g.rounds.max()) if len(g) else 0
    note = (
        f"Measured at `{found.commit[:8]}`, {rounds} paired rounds per framework: in each round the framework's plain "
        "process (the closed row: glibc's malloc with its defaults) and one fresh process per setting, all alive "
        "together, each setting's sample taken between two of the plain process's. A cell is the throughput gain "
        "over the plain process at batch 128 with its 95% interval; ✓ where the interval proves it faster (an open "
        "row). Measure: `seqmnist-bench settings`."
    )
    return Section("CPU — open division, system settings: what each allocator buys", table(found), [note])


def readme_line(found: Found) -> str:
    """One line for the README: what each setting was proved to buy here, or that none was."""
    g = gains(found)
    proved = g[g.proved].sort_values("gain", ascending=False)
    rounds = int(g.rounds.max()) if len(g) else 0
    if proved.empty:
        return f"Open division, allocators ({rounds} paired rounds): no setting proved faster than the plain process."
    said = "; ".join(
        f"{md_text(r.framework)} {WHAT.get(r.metric, r.metric)} {r.gain:+.0%} [{r.low:+.0%}, {r.high:+.0%}] with "
        f"{md_text(r.setting)}"
        for r in proved.itertuples()
    )
    return f"Open division, allocators ({rounds} paired rounds, each against the plain process): {said}."
