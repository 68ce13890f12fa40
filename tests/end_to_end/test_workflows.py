"""The GitHub workflows: what CI runs and what it keeps between runs."""

from __future__ import annotations

from conftest import ROOT


def test_ci_caches_run_metadata_with_the_results():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "benchmarks.yml").read_text())
    caches = [
        step["with"]["path"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "actions/cache" in step.get("uses", "") and "results/asv" in step.get("with", {}).get("path", "")
    ]
    assert caches, "no cache of results/asv"
    for paths in caches:
        assert "results/meta" in paths.split()


def test_each_runner_uploads_its_machine_and_one_job_merges_them_into_the_page():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "benchmarks.yml").read_text())
    bench, page = workflow["jobs"]["benchmarks"], workflow["jobs"]["page"]
    assert "ubuntu-latest" in bench["strategy"]["matrix"]["runner"]  # default label, more via a variable
    assert bench["runs-on"] == "${{ matrix.runner }}" and "matrix.runner" in bench["env"]["MACHINE"]
    uploads = [
        s["with"]
        for s in bench["steps"]
        if "upload-artifact" in s.get("uses", "") and "results/meta/" in s["with"]["path"]
    ]
    assert uploads and "matrix.runner" in uploads[0]["name"]
    assert {"results/asv/${{ env.MACHINE }}/", "results/meta/${{ env.MACHINE }}/"} <= set(
        uploads[0]["path"].splitlines()
    )
    assert page["needs"] == "benchmarks"
    script = " ".join(s.get("run", "") for s in page["steps"])
    downloaded = next(s["with"]["path"] for s in page["steps"] if "download-artifact" in s.get("uses", ""))
    assert f"seqmnist-bench merge {downloaded}*" in script and "seqmnist-bench report" in script
