"""matplotlib plots: throughput against batch size, history over commits, cost against work."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.text import file_part
from bench.report.changes import method_breaks
from bench.report.load import latest_commits, rounds_text
from bench.workload.benchmarks import METRICS, display_value, hidden_flops


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ticker():
    import matplotlib.ticker

    return matplotlib.ticker


def plot_path(out_dir: Path, kind: str, *names) -> Path:
    """Where a plot of `kind` for a machine (and device) is written and read: each stored name made a safe
    file-name part (core.text.file_part), so stored text never picks a path."""
    return Path(out_dir) / ("_".join([kind, *(file_part(n) for n in names)]) + ".png")


def _save(fig, path: Path, dpi: int) -> Path:

    from PIL import Image

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, dpi=dpi, format="png")
    _pyplot().close(fig)
    small = io.BytesIO()  # a 256-colour palette: a third of the bytes for flat plots, the page stays light
    Image.open(png).convert("RGB").quantize(colors=256).save(small, format="png", optimize=True)
    return files.write_bytes(path, small.getvalue())


def _half_width(shown: pd.Series, spread: pd.Series) -> list[list[float]]:
    """Error bars (below, above) from each value's 95% interval, symmetric in log: value / (1 + w) to
    value * (1 + w) for the relative half-width w (none where one process stands behind it)."""
    w = [float(x) if pd.notna(x) else 0.0 for x in spread]
    return [[v - v / (1 + x) for v, x in zip(shown, w)], [v * x for v, x in zip(shown, w)]]


def plot_throughput(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Samples/s against batch size, one line per framework, train and predict side by side."""
    plt = _pyplot()
    written = []
    for machine, commit in latest_commits(frame).items():
        sel = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.status == "ok")]
        for device in sorted(sel.device.dropna().unique()):
            dev = sel[(sel.device == device) & sel.metric.isin(["train_step", "predict"])]
            if dev.empty:
                continue
            fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
            for ax, metric in zip(axes, ["train_step", "predict"]):
                for fw, g in dev[dev.metric == metric].groupby("framework"):
                    g = g.sort_values("batch_size")
                    shown = g.batch_size.astype(float) / g.value
                    ax.errorbar(
                        g.batch_size.astype(float),
                        shown,
                        yerr=_half_width(shown, g.spread),
                        marker="o",
                        capsize=3,
                        label=fw,
                    )
                ax.set(
                    xscale="log",
                    yscale="log",
                    xlabel="batch size",
                    ylabel="samples/s",
                    title=f"{METRICS[metric].label} ({device})",
                )
                ax.grid(True, which="both", alpha=0.3)
                ax.legend()
            fig.suptitle(f"{machine} @ {commit[:8]}: higher is better; bars: 95% interval over processes")
            written.append(_save(fig, plot_path(out_dir, "throughput", machine, device), 110))
    return written


def _ratio_rows(frame: pd.DataFrame, batch: int | None = None):
    """(machine, commit, device, rows) of each machine's shown commit: its train and predict rows with a
    ratio to the reference (at `batch` only, when given), what the ratio plots draw."""
    for machine, commit in latest_commits(frame).items():
        sel = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.status == "ok")]
        sel = sel[sel.metric.isin(["train_step", "predict"]) & sel.speedup.notna()]
        if batch is not None:
            sel = sel[sel.batch_size == batch]
        for device in sorted(sel.device.dropna().unique()):
            yield machine, commit, device, sel[sel.device == device]


def _bars(rows: pd.DataFrame) -> list[pd.Series]:
    """matplotlib's error bars of the ratios: the distances below and above to the interval's ends."""
    return [
        (rows.speedup - rows.speedup_low).clip(lower=0).fillna(0),
        (rows.speedup_high - rows.speedup).clip(lower=0).fillna(0),
    ]


def plot_ratios(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Each framework's throughput ratio to the reference with its 95% interval (from per-round pairs),
    per batch size, train and predict side by side, a line at 1.0: the comparison at a glance."""
    plt = _pyplot()
    written = []
    for machine, commit, device, dev in _ratio_rows(frame):
        fws = sorted(dev.framework.unique(), key=lambda f: (f != dev.reference.iloc[0], f))
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
        for ax, metric in zip(axes, ["train_step", "predict"]):
            part = dev[dev.metric == metric]
            batches = sorted(part.batch_size.dropna().astype(int).unique())
            for k, fw in enumerate(fws):
                g = part[part.framework == fw].set_index(part[part.framework == fw].batch_size.astype(int))
                xs = [i + (k - (len(fws) - 1) / 2) * 0.12 for i, b in enumerate(batches) if b in g.index]
                g = g.reindex([b for b in batches if b in g.index])
                ax.errorbar(xs, g.speedup, yerr=_bars(g), fmt="o", capsize=3, label=fw)
            ax.axhline(1.0, color="grey", lw=1)
            ax.set_xticks(range(len(batches)), [str(b) for b in batches])
            ax.set(
                yscale="log",
                xlabel="batch size",
                ylabel=f"samples/s ÷ {dev.reference.iloc[0]}",
                title=f"{METRICS[metric].label} ({device})",
            )
            ax.yaxis.set_major_locator(_ticker().LogLocator(base=2))
            ax.yaxis.set_major_formatter(_ticker().FuncFormatter(lambda v, _: f"{v:g}x"))
            ax.yaxis.set_minor_formatter(_ticker().NullFormatter())
            ax.grid(True, axis="y", which="major", alpha=0.3)
        axes[0].legend(fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.18), ncol=len(fws))
        fig.suptitle(
            f"{machine} @ {commit[:8]}: ratio to {dev.reference.iloc[0]}; bars: 95% interval from "
            + rounds_text(int(dev.paired_rounds.fillna(0).max()), dev.version)
        )
        written.append(_save(fig, plot_path(out_dir, "ratios", machine, device), 110))
    return written


def plot_answer(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """answer_<machine>_<device>.png, small, beside the page's answer: each framework's training and
    inference throughput ratio to the reference at batch 128 with its 95% interval, fastest on top."""
    plt = _pyplot()
    written = []
    for machine, _commit, device, dev in _ratio_rows(frame, batch=128):
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 0.35 * dev.framework.nunique() + 1.1), sharex=True)
        for ax, metric, what in zip(axes, ["train_step", "predict"], ["training", "inference"]):
            part = dev[dev.metric == metric].sort_values("speedup")
            ax.barh(part.framework, part.speedup, color="#9db7d3")
            ax.errorbar(part.speedup, part.framework, xerr=_bars(part), fmt="none", ecolor="#1d232a", capsize=3)
            ax.axvline(1.0, color="grey", lw=1)
            ax.set_title(f"{what} @128: ÷ {dev.reference.iloc[0]}", fontsize="medium")
            ax.xaxis.set_major_formatter(_ticker().FuncFormatter(lambda v, _: f"{v:g}x"))
            ax.grid(True, axis="x", alpha=0.3)
        written.append(_save(fig, plot_path(out_dir, "answer", machine, device), 90))
    return written


HISTORY_METRICS = [("train_step", 128), ("predict", 128), ("cold_start", None), ("train", None), ("test_error", None)]


def plot_history(frame: pd.DataFrame, out_dir: Path, changes: pd.DataFrame | None = None) -> list[Path]:
    """Each key benchmark over commits (oldest to newest), one line per framework; each change point
    (bench.report.changes) a dashed line before the commit that starts the new level, with its size;
    each change of method (a new benchmark version) a grey band, its two sides never one line."""
    plt = _pyplot()
    written = []
    ok = frame[frame.status == "ok"]
    breaks = method_breaks(ok)
    changes = changes if changes is not None else pd.DataFrame(columns=["machine", "device", "metric", "after"])
    for (machine, device), sel in ok.groupby(["machine", "device"]):
        order = sel.groupby("commit").date.max().sort_values()
        if len(order) < 2:  # one commit is no history: no plot (and none left from an earlier report)
            (plot_path(out_dir, "history", machine, device)).unlink(missing_ok=True)
            continue
        cols = 3
        rows = -(-len(HISTORY_METRICS) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.6 * rows), squeeze=False)
        for ax in axes.flat[len(HISTORY_METRICS) :]:
            ax.set_visible(False)
        for ax, (metric, batch) in zip(axes.flat, HISTORY_METRICS):
            part = sel[sel.metric == metric]
            if batch is not None:
                part = part[part.batch_size == batch]
            colors = {}
            dense = len(order) > 60  # long histories: small points, no caps, so the line stays readable
            cuts = _mark_breaks(ax, breaks, machine, device, metric, batch, list(order.index))
            for fw, g in part.groupby("framework"):
                g = g.assign(pos=g.commit.map({c: i for i, c in enumerate(order.index)})).sort_values("pos")
                shown = pd.Series([display_value(metric, v, b) for v, b in zip(g.value, g.batch_size)], index=g.index)
                gap = pd.DataFrame({"pos": [c - 0.5 for c in cuts], "spread": math.nan})  # no line across a cut
                g = pd.concat([g.assign(shown=shown), gap]).sort_values("pos")
                shown = g.shown.astype(float)
                bars = ax.errorbar(
                    g.pos, shown, yerr=_half_width(shown, g.spread), marker="o", markersize=2 if dense else 6,
                    capsize=0 if dense else 2, linewidth=0.8 if dense else 1.5, elinewidth=0.5 if dense else 1.0, label=fw,
                )  # fmt: skip
                colors[fw] = bars[0].get_color()
            _mark_changes(ax, changes, machine, device, metric, batch, list(order.index), colors)
            label = METRICS[metric].label + (f" @{batch}" if batch else "")
            ax.set(title=f"{label} ({METRICS[metric].display})", xlabel="commit")
            commit_ticks(ax, list(order.index))
            ax.grid(True, alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
        fig.suptitle(f"{machine} / {device}: history (up is better for samples/s and accuracy)")
        written.append(_save(fig, plot_path(out_dir, "history", machine, device), 100))
    return written


MAX_TICKS = 20  # commit labels on a history plot's axis, at most (400 side by side are a black band)


def commit_ticks(ax, order: list[str]) -> None:
    """Label at most MAX_TICKS commits, evenly spaced, the newest always among them."""
    step = max(1, -(-len(order) // MAX_TICKS))
    at = list(range(len(order) - 1, -1, -step))[::-1]
    ax.set_xticks(at, [order[i][:7] for i in at], rotation=45, fontsize=7)
    if step > 1:
        ax.set_xlabel(f"commit (every {step}th labelled, {len(order)} in all)")


def _mark_breaks(ax, breaks: pd.DataFrame, machine, device, metric, batch, order: list[str]) -> list[int]:
    """A grey band before each commit where this plot's benchmark changed method (a new version), named
    with the two versions: its two sides are two methods, never one history. Returns the commits' places."""
    sel = breaks[(breaks.machine == machine) & (breaks.device == device) & (breaks.metric == metric)]
    if batch is not None:
        sel = sel[sel.batch_size == batch]
    cuts = []
    for row in sel.drop_duplicates("after").itertuples():
        if row.after not in order:
            continue
        x = order.index(row.after)
        cuts.append(x)
        ax.axvspan(x - 0.6, x - 0.4, color="0.6", alpha=0.5, gid="method-break")
        ax.annotate(
            f"method {row.old_version} → {row.new_version}",
            (x - 0.5, 0.02),
            xycoords=("data", "axes fraction"),
            fontsize=6,
            rotation=90,
            ha="right",
            va="bottom",
            color="0.3",
        )
    return cuts


def _mark_changes(ax, changes: pd.DataFrame, machine, device, metric, batch, order: list[str], colors) -> None:
    sel = changes[(changes.machine == machine) & (changes.device == device) & (changes.metric == metric)]
    if batch is not None and "batch_size" in sel:
        sel = sel[sel.batch_size == batch]
    for row in sel.itertuples():
        if row.after not in order:
            continue
        x = order.index(row.after) - 0.5
        color = colors.get(row.framework, "0.3")
        ax.axvline(x, linestyle="--", linewidth=1.2, color=color, alpha=0.8)
        ax.annotate(
            f"{row.ratio - 1:+.0%}",
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color=color,
            ha="center",
            va="bottom",
        )


def plot_scaling(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Train samples/s and achieved GFLOP/s against FLOPs per step, per framework: the hidden-size
    sweep (solid, batch 128) and the batch-size sweep of TrainStep (dashed, hidden 128)."""
    plt = _pyplot()
    written = []
    for machine, commit in latest_commits(frame).items():
        ok = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.status == "ok")]
        sel = ok[ok.metric == "hidden_train_step"]
        for device, dev in sel.groupby("device"):
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            batches = ok[(ok.metric == "train_step") & (ok.device == device)]
            for i, (fw, g) in enumerate(dev.groupby("framework")):
                color = f"C{i}"
                g = g.assign(h=g.setting.astype(int)).sort_values("h")
                flops = [hidden_flops(h) for h in g.h]
                axes[0].plot(flops, 128 / g.value, marker="o", color=color, label=f"{fw} (hidden)")
                axes[1].plot(
                    flops,
                    [f / v / 1e9 for f, v in zip(flops, g.value)],
                    marker="o",
                    color=color,
                    label=f"{fw} (hidden)",
                )
                b = batches[batches.framework == fw].sort_values("batch_size")
                bflops = [hidden_flops(128) * int(n) / 128 for n in b.batch_size]
                shown = b.batch_size.astype(float) / b.value
                axes[0].errorbar(
                    bflops,
                    shown,
                    yerr=_half_width(shown, b.spread),
                    ls="--",
                    marker="s",
                    color=color,
                    capsize=3,
                    label=f"{fw} (batch)",
                )
                axes[1].plot(
                    bflops,
                    [f / v / 1e9 for f, v in zip(bflops, b.value)],
                    ls="--",
                    marker="s",
                    color=color,
                    label=f"{fw} (batch)",
                )
            axes[0].set(
                xscale="log", yscale="log", xlabel="matmul FLOPs per train step", ylabel="samples/s", title="throughput"
            )
            axes[1].set(xscale="log", xlabel="matmul FLOPs per train step", ylabel="GFLOP/s", title="achieved GFLOP/s")
            for ax in axes:
                ax.grid(True, which="both", alpha=0.3)
                ax.legend()
            fig.suptitle(f"{machine} / {device} @ {commit[:8]}: cost against work (higher is better)")
            written.append(_save(fig, plot_path(out_dir, "scaling", machine, device), 110))
    return written
