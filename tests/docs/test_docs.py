"""The README and docs stay true: the README's table is what the stored results render, every commit
they cite is one whose results are stored, and the README stays user documentation (at most 200 lines)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from bench import report
from bench.report.publish import README_END, README_START

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CITED = re.compile(r"`([0-9a-f]{8})`")


def stored_ids() -> set[str]:
    """Commits with stored results (asv files, run metadata, rounds files) and host fingerprint ids."""
    results = ROOT / "results"
    ids = {p.name[:8] for p in (results / "asv").glob("*/*.json") if p.name != "machine.json"}
    ids |= {p.stem[:8] for p in (results / "meta").glob("*/*.json")}
    ids |= {p.stem[:8] for p in (results / "rounds").glob("*/*.csv")}
    ids |= {p.stem[:8] for p in (ROOT / "docs" / "validation").glob("*/*.csv")}  # validation runs kept as data
    ids |= {p.stem[:8] for p in (results / "profiles").glob("*/*.json")}  # step breakdowns (`profile`)
    for meta in (results / "meta").glob("*/*.json"):
        try:
            data = json.loads(meta.read_text())
        except ValueError:
            continue
        fp = data.get("fingerprint") if isinstance(data, dict) else None
        ids |= {str(x)[:8] for x in (data.get("id"), (fp or {}).get("id")) if x} if isinstance(data, dict) else set()
    return ids


def test_every_cited_commit_has_stored_results():
    known = stored_ids()
    missing = {
        f"{doc.relative_to(ROOT)}: {c}" for doc in DOCS for c in CITED.findall(doc.read_text()) if c not in known
    }
    assert not missing, sorted(missing)


def committed_results(into: Path) -> Path:
    """The results the repository holds (git's tracked files under results/, as they are in the working
    tree) copied into `into`: a user's own `make bench` adds untracked machine folders, which the
    published README block does not show until they are committed. Returns the asv folder there."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "results/asv", "results/meta", "results/rounds"],
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:  # not a git checkout (an unpacked archive): every stored file is committed
        return ROOT / "results" / "asv"
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, into / name)
    return into / "results" / "asv"


def test_the_readme_table_is_what_the_stored_results_render(tmp_path):
    text = (ROOT / "README.md").read_text()
    shown = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    results = committed_results(tmp_path)
    rendered = report.readme_table(report.load_results(results), report.load_settings(ROOT / "results"))
    assert rendered is not None and shown == rendered.strip(), (
        "README block differs: `seqmnist-bench report` rewrites it"
    )


def test_the_committed_tables_are_what_the_committed_results_render(tmp_path):
    """Behaviour pinned: every machine's comparison and variants tables (results/report/latest.md) as the
    code renders them from the committed results; a change to a table is a change to this file too."""
    frame = report.load_results(committed_results(tmp_path / "in"))
    paths, _ = report.write_latest(frame, tmp_path / "out", report.load_settings(ROOT / "results"))
    committed = (ROOT / "results" / "report" / "latest.md").read_text()
    assert paths[0].read_text() == committed, "latest.md differs: `seqmnist-bench report` rewrites it"


def test_a_users_own_run_does_not_change_what_the_readme_test_compares(tmp_path):
    """`make bench` then `make test` in a fresh clone: the run's untracked machine folder is not read."""
    own = ROOT / "results" / "asv" / "zz-untracked-test-machine"
    assert not own.exists()
    try:
        own.mkdir()
        (own / "machine.json").write_text("{}")
        copied = committed_results(tmp_path)
        assert (copied / "benchmarks.json").is_file() and not (copied / own.name).exists()
    finally:
        shutil.rmtree(own, ignore_errors=True)


def test_the_readme_is_user_documentation():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    for heading in ("## The two commands", "## Latest results", "## Commands and exit codes", "## Adding a framework"):
        assert any(line.startswith(heading) for line in lines), heading
    for doc in re.findall(r"\]\((docs/[\w.-]+\.md)\)", "\n".join(lines)):
        assert (ROOT / doc).is_file(), doc


def test_every_package_docstring_names_each_of_its_modules():
    """A newcomer reads a package's docstring to find a module: every module is named there (as name.py)."""
    import ast

    missing = []
    for init in sorted([*(ROOT / "bench").glob("*/__init__.py"), ROOT / "impls" / "__init__.py"]):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        missing += [
            f"{init.parent.name}/{m.name}"
            for m in sorted(init.parent.glob("*.py"))
            if m.name != "__init__.py" and m.name not in doc
        ]
    assert not missing, missing
