"""The GitHub workflows: what CI runs and what it keeps between runs.
"""
from __future__ import annotations

from conftest import ROOT


def test_ci_caches_run_metadata_with_the_results():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "benchmarks.yml").read_text())
    caches = [step["with"]["path"] for job in workflow["jobs"].values() for step in job["steps"]
              if "actions/cache" in step.get("uses", "") and "results/asv" in step.get("with", {}).get("path", "")]
    assert caches, "no cache of results/asv"
    for paths in caches:
        assert "results/meta" in paths.split()
