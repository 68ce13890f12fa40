"""results/report/index.html: the results as one self-contained page (inline CSS, plots as base64 PNG,
no scripts, no network fetches) to open from disk, attach to a release or serve from GitHub Pages.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from bench.core import files
from bench.core.text import md_note, scrub_paths
from bench.report import hosts
from bench.report.breakdowns import breakdown_table, causes, shown_commits
from bench.report.changes import change_text
from bench.report.load import is_quick, latest_commits, runs
from bench.report.plots import plot_path
from bench.report.sections import Section, open_division_section, variant_sections
from bench.report.settings import section as settings_section
from bench.report.summary import answer
from bench.report.tables import FACT_SEP, RATIO_SEP, WIDE, _nothing_ran, comparison_table, header_line
from bench.workload.benchmarks import BENCHMARKS

TEMPLATE = Path(__file__).with_name("page.html.j2")

VERDICT_HELP = {
    "regression": "the whole 95% interval of the change lies beyond the threshold, the slow way: CI fails",
    "failed": "the benchmark ran at the base but fails at the head: CI fails",
    "improvement": "the whole interval lies beyond the threshold, the fast way",
    "inconclusive": "the interval straddles the threshold: more rounds would decide (not a failure)",
    "unchanged": "the interval lies within the threshold either way",
    "new": "measured at the head only",
    "gone": "measured at the base only",
}


@dataclass
class DeviceBlock:
    device: str
    tables: list[tuple[str, str]]  # (lead, HTML): the comparison table's column groups
    notes: list[str]
    sections: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (title, HTML, notes)
    plot: str | None = None  # data: URI


@dataclass
class MachineBlock:
    machine: str
    commit: str
    facts: list[str]  # HTML fragments
    devices: list[DeviceBlock]
    plots: list[tuple[str, str]]  # (caption, data: URI)
    reproduce: str
    breakdown: str = ""  # HTML table of where the train step's time goes ('' when never profiled)
    breakdown_commit: str = ""
    breakdown_plot: str | None = None
    history: list[str] = field(default_factory=list)  # a sentence per device with a single stored commit
    partial: bool = False  # no complete comparison stored (a run of some benchmarks or frameworks only)
    kin: str = ""  # what differs from the other hosts of its kind ('' when it has none)


def write_page(
    frame: pd.DataFrame,
    out_dir: Path,
    regressions: Sequence[tuple[str, str]] = (),
    skipped: Sequence[str] = (),
    changes: pd.DataFrame | None = None,
    profiles: dict[str, dict] | None = None,
    fingerprints: dict[str, dict] | None = None,
    settings: dict | None = None,
) -> Path:
    """Render index.html from the frame, the PNG plots already in out_dir, regression reports given as
    (title, Markdown), the stored files left out as unreadable (report --skip-corrupt), and each machine's
    newest step breakdown (`profile`), stored host fingerprint and system-settings run (`settings`: machine ->
    report.settings.Found). Returns the page's path."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    commits = latest_commits(frame)
    complete = complete_machines(frame)
    machines = [
        _machine_block(frame, m, commits[m], out_dir, (settings or {}).get(m)) for m in machine_order(frame, complete)
    ]
    shown = [block.machine for block in machines]
    for block in machines:
        block.partial = block.machine not in complete
        block.kin = hosts.differences(block.machine, shown, fingerprints or {})
    for block in machines:
        _add_breakdown(block, (profiles or {}).get(block.machine), out_dir)
    env = Environment(loader=FileSystemLoader(TEMPLATE.parent), autoescape=select_autoescape(["j2"]))
    env.filters["code"] = text_html
    env.filters["md"] = markdown_html
    page = env.get_template(TEMPLATE.name).render(
        machines=machines,
        metrics=[(m.name, m.label, _unit_text(m), m.how) for m in BENCHMARKS.values() if m.column],
        regressions=[(title, _markdown_html(scrub_paths(text))) for title, text in regressions],
        verdict_help=VERDICT_HELP,
        skipped=[scrub_paths(s) for s in skipped],
        changes=_changes_html(changes),
        answers=[
            a
            for block in machines
            if not block.partial
            for device in ("cpu", "gpu")
            if (a := _answer(frame, block, device, (profiles or {}).get(block.machine), out_dir))
        ],
        generated=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    files.write_text(path, page)
    return path


@dataclass
class Answer:
    """The page's first screen for one machine and device: the answer sentences, the ratio chart beside
    them, and where the gaps come from."""

    machine: str
    commit: str
    device: str
    lines: list[str]
    chart: str | None  # data: URI
    causes: str


def _answer(frame: pd.DataFrame, block: MachineBlock, device: str, profile: dict | None, out_dir: Path):
    lines = answer(frame, block.machine, block.commit, device)
    if not lines:
        return None
    chart = _png(plot_path(out_dir, "answer", block.machine, device))
    return Answer(block.machine, block.commit, device, lines, chart, causes(profile) if device == "cpu" else "")


def _changes_html(changes: pd.DataFrame | None) -> str:
    """The change points as a table (HTML, escaped), newest first; '' when there are none."""

    if changes is None or changes.empty:
        return ""
    shown = changes.sort_values("date", ascending=False)
    table = pd.DataFrame(
        {
            "machine": shown.machine,
            "commits": [f"{b[:8]} → {a[:8]}" for b, a in zip(shown.before, shown.after)],
            "benchmark": shown.benchmark.str.rsplit(".", n=1).str[-1],
            "parameters": shown.label,
            "change (stored value)": [change_text(r) for r in shown.itertuples()],
            "newest commit": ["yes" if n else "" for n in shown.newest],
            "stepped at the same commit": shown.together,
        }
    ).set_index("machine")
    return table_html(table)


def _machine_block(frame: pd.DataFrame, machine: str, commit: str, out_dir: Path, found=None) -> MachineBlock:
    devices = []
    for device in ("cpu", "gpu"):
        table, notes = comparison_table(frame, machine, commit, device)
        shown = variant_sections(frame, machine, commit, device)
        division = open_division_section(frame, machine, device)
        shown += [division] if division else []
        shown += [settings_section(found)] if found is not None and device == "cpu" else []
        sections = [(s.title, table_html(s.table), s.notes) for s in shown]
        if _nothing_ran(table) and not sections:
            continue
        devices.append(
            DeviceBlock(
                device,
                [] if _nothing_ran(table) else [(lead, table_html(part)) for lead, part in column_groups(table)],
                notes,
                sections,
                _png(plot_path(out_dir, "throughput", machine, device)),
            )
        )
    plots = [
        (f"{kind} on {device}", uri)
        for kind in ("ratios", "scaling", "history")
        for device in ("cpu", "gpu")
        if (uri := _png(plot_path(out_dir, kind, machine, device)))
    ]
    facts = [_inline_code(part) for part in header_line(frame, machine, commit).split(FACT_SEP)]
    single = frame[(frame.machine == machine) & (frame.status == "ok")].groupby("device").commit.nunique()
    history = [f"{device}: one commit stored so far, so no history plot yet" for device, n in single.items() if n < 2]
    return MachineBlock(machine, commit, facts, devices, plots, _reproduce(frame, machine, commit), history=history)


GROUPS = (  # the comparison table's columns in parts that each fit a 1280-px screen: (title and lead, metrics)
    (
        "Training: samples/s of one Adam step (forward, backward, update) per batch size, and the ratio to the "
        "reference; higher is faster",
        ("train_step",),
    ),
    ("Inference: samples/s of one forward pass per batch size, and the ratio to the reference", ("predict",)),
    (
        "The harness and the hardware: the framework's textbook training loop timed the same way, the harness's "
        "overhead over it, and the train step's share of the host's matmul peak",
        ("minimal_train_step", None),  # None: the columns derived from the train step
    ),
    (
        "Start-up, memory and accuracy: a fresh process's first step, peak memory, and the test accuracy after the "
        "epochs shown",
        ("cold_start", "train", "device_peak_memory", "test_error", "time_to_accuracy", "steps_to_accuracy"),
    ),
)


def column_groups(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The comparison table as its column groups (GROUPS; a column without a metric, a ratio derived from
    the train step, goes with training), each keeping the table's attrs; empty groups left out."""
    metrics = table.attrs.get("metrics", {})
    out = []
    for title, kinds in GROUPS:
        columns = [c for c in table.columns if metrics.get(c) in kinds]
        if columns:
            part = table[columns].copy()
            part.attrs = table.attrs
            out.append((title, part))
    return out


def complete_machines(frame: pd.DataFrame) -> set[str]:
    """Machines with a complete comparison stored (load.runs)."""
    return set(runs(frame).query("complete").machine)


def machine_order(frame: pd.DataFrame, complete: set[str] | None = None) -> list[str]:
    """Machines with a complete comparison first, then those with partial results only; newest first
    within each, machines of one kind (hosts.kind) together."""
    complete = complete_machines(frame) if complete is None else complete
    newest = frame.groupby("machine").date.max()
    return hosts.order([m for m in newest.index if m in complete], newest) + hosts.order(
        [m for m in newest.index if m not in complete], newest
    )


def _add_breakdown(block: MachineBlock, profile: dict | None, out_dir: Path) -> None:

    if not profile:
        return
    table = breakdown_table(profile)
    if table.empty:
        return
    block.breakdown = table_html(table)
    block.breakdown_commit = shown_commits(profile)
    block.breakdown_plot = _png(plot_path(out_dir, "breakdown", block.machine))


def table_html(table: pd.DataFrame) -> str:
    """A table of strings as HTML through pandas' Styler: numbers right-aligned (class num), n/a cells
    (class na), each column's best framework marked (class best, from the table's attrs)."""
    best, metrics = table.attrs.get("best", {}), table.attrs.get("metrics", {})
    repeated = not table.index.is_unique  # a row name shown more than once (a machine's several change points)
    if repeated:  # Styler needs unique rows: a hidden second level, the row's position
        table = table.set_axis(pd.MultiIndex.from_arrays([table.index, range(len(table))]), axis=0)
    classes = pd.DataFrame(
        [
            [_cell_class(table.iat[i, j], best.get(col) == name) for j, col in enumerate(table.columns)]
            for i, name in enumerate(table.index)
        ],
        index=table.index,
        columns=table.columns,
    )
    table = table.rename_axis(index=[None] * table.index.nlevels, columns=None)  # an empty corner, no row of names
    uuid = hashlib.sha1(table.to_csv().encode()).hexdigest()[:6]  # ids stable between renders of the same table
    styler = table.style.set_uuid(uuid).set_td_classes(classes).set_table_attributes('class="results"')
    styler = styler.format(_cell_html).format_index(escape="html", axis=0)  # cells and row names: text
    styler = styler.format_index(lambda c: _header_link(c, metrics.get(c)), axis=1)
    if repeated:
        styler = styler.hide(level=1, axis="index")
    return styler.to_html(doctype_html=False)


def _cell_html(value) -> str:
    """A cell's text, escaped; a ratio after RATIO_SEP on a line of its own (half the column's width)."""
    return html.escape(str(value)).replace(RATIO_SEP, "<br>" + RATIO_SEP.lstrip())


def _header_link(column: str, metric: str | None) -> str:
    """A column header that links to what it measures (the page's definitions section)."""
    text = html.escape(str(column))
    return f'<a href="#m-{metric}">{text}</a>' if metric else text


def _cell_class(text, best: bool) -> str:
    text = str(text)
    kind = "na" if text.startswith("n/a") else "num" if re.match(r"^[\d.,+-]", text) else "text"
    return kind + (" best" if best else "") + (" wide" if WIDE in text else "")


def _unit_text(metric) -> str:
    up = "higher is better" if metric.higher_shown_is_better else "lower is better"
    return f"{metric.display}, {up}"


def _inline_code(text: str) -> str:
    """A line of Markdown (outside values escaped, as header_line and the answer write them) as inline HTML."""
    return _markdown().renderInline(text)


def text_html(text: str) -> Markup:
    """A line of the tool's plain text as HTML: made Markdown by md_note (its `code spans` kept, all else
    inert), then rendered as every other line of the page is (no raw backticks)."""
    return Markup(_inline_code(md_note(text)))


def markdown_html(text: str) -> Markup:
    """A line that is Markdown already (the answer sentences) as HTML."""
    return Markup(_inline_code(text))


def _png(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _reproduce(frame: pd.DataFrame, machine: str, commit: str) -> str:
    """The commands that measured this machine's newest commit (each run's exact options, --bench
    included, are in its run metadata)."""
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    quick = is_quick(sel)
    threads = sel.threads.dropna()
    processes = sel[sel.metric == "train_step"].runs.max()
    frameworks = " ".join(sorted(sel[sel.status == "ok"].framework.dropna().unique()))
    run = f".venv/bin/seqmnist-bench run --machine {machine} --frameworks {frameworks}"
    run += f" --threads {int(threads.iloc[0])}" if len(threads) else ""
    run += " --quick" if quick else (f" --processes {int(processes)}" if pd.notna(processes) and processes > 1 else "")
    return "\n".join(
        [
            f"git checkout {commit[:12]}",
            "make install",
            f"{run} --data-dir PATH/TO/mnist",
            ".venv/bin/seqmnist-bench report   # writes results/report/index.html",
            f"# each run's options (--bench included): results/meta/{machine}/{commit[:8]}.json",
        ]
    )


def _markdown():
    """CommonMark with tables and without raw HTML: what the tool's Markdown holds is rendered, never
    markup that came in with an exception message or a name."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _markdown_html(text: str) -> str:
    """A regression report (Markdown, as written beside the page) as HTML, verdict cells classed by verdict."""
    body = _markdown().render(text)
    body = re.sub(r"<td>(" + "|".join(VERDICT_HELP) + r")</td>", r'<td class="v-\1">\1</td>', body)
    return re.sub(r"<table>", '<div class="scroll"><table class="results">', body).replace("</table>", "</table></div>")


__all__ = ["Section", "table_html", "write_page"]
