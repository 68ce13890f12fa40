"""Where the step time goes (stored by `seqmnist-bench profile`): a table and one stacked bar per
framework, the train step at batch 128, beside each machine's comparison table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.core import files
from bench.report.corrupt import Corrupt, readable
from bench.report.plots import _pyplot, _save, plot_path
from bench.workload.breakdown import CATEGORIES, row_key, row_name

SHOWN = ("train", 128)  # (mode, batch size) of the page's chart and table


def load_profiles(results_root: Path, corrupt: Corrupt | None = None) -> dict[str, dict]:
    """Per machine, the newest stored breakdown of each row (framework, variant, device, mode, batch)
    over results/profiles/<machine>/*.json, newest by the time each file was saved (a checkout gives every
    file one modification time): profiling one framework at a later commit adds its rows and keeps the
    others'. Each breakdown carries the commit it was profiled at; `commits` lists those shown. A file
    that cannot be read is a CorruptFile, or with `corrupt`, skipped there."""
    found = {}
    folder = Path(results_root) / "profiles"
    for machine_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        read = (readable(p, _read_profile, corrupt) for p in sorted(machine_dir.glob("*.json")))
        stored = sorted((d for d in read if d is not None), key=lambda d: str(d.get("saved", "")))
        if not stored:
            continue
        rows: dict[tuple, dict] = {}
        for data in stored:
            rows.update(data["rows"])
        used = {b["commit"] for b in rows.values()}
        found[machine_dir.name] = {
            **{k: v for k, v in stored[-1].items() if k != "rows"},
            "breakdowns": sorted(rows.values(), key=lambda b: (b["framework"], b["variant"] != "fused", row_key(b))),
            "commits": [c for c in dict.fromkeys(d.get("commit", "") for d in stored) if c in used],
        }
    return found


def _read_profile(path: Path) -> dict:
    """A stored profile with its breakdowns keyed by row (KeyError, TypeError on a file of the wrong shape)."""
    data = files.read_json(path)
    breakdowns = data.get("breakdowns", [])
    if not isinstance(breakdowns, list):
        raise TypeError("'breakdowns' is not a list")
    return {**data, "rows": {row_key(b): {**b, "commit": str(data.get("commit", ""))} for b in breakdowns}}


def shown_commits(profile: dict) -> str:
    """The commits a machine's shown breakdowns were profiled at, short, oldest first."""
    return ", ".join(c[:8] for c in profile.get("commits") or [profile["commit"]])


def breakdown_table(profile: dict, mode: str = SHOWN[0], batch: int = SHOWN[1]) -> pd.DataFrame:
    """Milliseconds per step in each category, per framework, with the step timed without the
    profiler, what the categories explain of it, and the step's matmuls alone as a share of it."""
    rows = {}
    for b in profile.get("breakdowns", []):
        if b["mode"] != mode or b["batch_size"] != batch:
            continue
        name = row_name(b["framework"], b["variant"])
        cats = b["categories"]
        row = {c: f"{cats.get(c, 0.0) * 1e3:.2f}" for c in CATEGORIES}
        row["step ms (no profiler)"] = f"{b['step_seconds'] * 1e3:.2f}"
        row["categories / step"] = f"{sum(cats.values()) / b['step_seconds']:.0%}"
        ceiling = b.get("ceiling_seconds")
        row["matmuls alone / step"] = f"{ceiling / b['step_seconds']:.0%}" if ceiling else "n/a"
        row["commit"] = str(b.get("commit", profile.get("commit", "")))[:8]
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    if "commit" in table and table["commit"].nunique() < 2:
        table = table.drop(columns="commit")  # one commit: the heading names it
    return table


def causes(profile: dict | None) -> str:
    """One sentence on where the gaps come from: each framework's profiled train step at batch 128 (its
    own idiomatic variant) and the category taking the largest share of it; '' when never profiled."""
    rows = [b for b in (profile or {}).get("breakdowns", []) if (b["mode"], b["batch_size"]) == SHOWN]
    rows = sorted(
        (b for b in rows if row_name(b["framework"], b["variant"]) == b["framework"]), key=lambda b: b["step_seconds"]
    )
    if not rows:
        return ""
    parts = []
    for b in rows:
        top, seconds = max(b["categories"].items(), key=lambda kv: kv[1])
        parts.append(f"{b['framework']} {b['step_seconds'] * 1e3:.1f} ms, {seconds / b['step_seconds']:.0%} {top}")
    return (
        f"Where the gaps come from (train step at batch 128 under each framework's profiler, at "
        f"`{shown_commits(profile or {})}`: step time, then its largest share): " + "; ".join(parts) + "."
    )


def plot_breakdowns(profiles: dict[str, dict], out_dir: Path) -> list[Path]:
    """breakdown_<machine>.png: one horizontal stacked bar per framework (ms per train step at batch
    128), the unprofiled step time marked on each."""

    written = []
    for machine, profile in profiles.items():
        shown = [b for b in profile.get("breakdowns", []) if (b["mode"], b["batch_size"]) == SHOWN]
        if not shown:
            continue
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(8, 0.6 * len(shown) + 1.4))
        names = [row_name(b["framework"], b["variant"]) for b in shown]
        left = [0.0] * len(shown)
        colors = plt.get_cmap("tab10").colors
        for i, category in enumerate(CATEGORIES):
            widths = [b["categories"].get(category, 0.0) * 1e3 for b in shown]
            ax.barh(names, widths, left=left, color=colors[i], label=category)
            left = [a + w for a, w in zip(left, widths)]
        ax.scatter(
            [b["step_seconds"] * 1e3 for b in shown],
            names,
            marker="|",
            s=400,
            color="black",
            label="step without profiler",
            zorder=3,
        )
        ax.invert_yaxis()
        ax.set_xlabel("ms per train step, batch 128")
        ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
        ax.set_title(f"Where a train step's time goes: {machine} @ {shown_commits(profile)}", fontsize=9)
        written.append(_save(fig, plot_path(out_dir, "breakdown", machine), dpi=110))
    return written
