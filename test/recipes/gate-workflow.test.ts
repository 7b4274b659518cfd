/**
 * The regression gate's `gate` job, run here step by step as GitHub Actions runs it (each `run:` script by
 * `bash -eo pipefail`, in order, stopping at the first failure except for `if: always()` steps, with
 * $GITHUB_STEP_SUMMARY set), on a tiny suite instead of `smoke`: once on the baseline's own checkpoints (a cache
 * hit: passes, says so in the summary) and once with a planted regression (fewer training steps: the check step
 * fails with exit 1, the summary shows the regressed cells, and the export and the JUnit report are still written).
 */
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runHarness, scratch, tinySuite, writeSuite } from "../harness/helpers.js"
import { junitProblems, parseXml } from "../ledger/xml.js"
import { workflowRunScripts } from "./recipe-commands.js"

interface Step {
  readonly name: string
  readonly script: string | null
  readonly always: boolean
}

/** The steps of one job of a workflow: its `- ` items, each with its run: script and whether it runs always. */
const jobSteps = (yaml: string, job: string): Step[] => {
  const start = yaml.indexOf(`\n  ${job}:\n`)
  const rest = yaml.slice(start + job.length + 4)
  const end = rest.search(/\n {2}[A-Za-z_-]+:\n/)
  const body = end < 0 ? rest : rest.slice(0, end)
  return body
    .split(/\n(?= {6}- )/)
    .filter((item) => item.startsWith("      - "))
    .map((item) => ({
      name: /(?:- |\n\s+)name: (.*)/.exec(item)?.[1] ?? /uses: (.*)/.exec(item)?.[1] ?? "?",
      script: workflowRunScripts(item)[0] ?? null,
      always: /\n\s+if: always\(\)/.test(item)
    }))
}

/** `npx harness ...` as the runner has it after `npm ci`: this checkout's bin. */
const FAKE_NPX = `#!/usr/bin/env bash
while [ "\${1:-}" != harness ]; do shift; done
shift
exec "${process.execPath}" "${join(repoRoot, "bin", "harness.js")}" "$@"
`

/** Runs the job's run: steps in `dir` (actions, and `npm ci`, already done); returns each step's exit code. */
const runJob = (steps: ReadonlyArray<Step>, dir: string, env: Record<string, string>): Map<string, number> => {
  const codes = new Map<string, number>()
  let failed = false
  for (const step of steps) {
    if (step.script === null || step.script.startsWith("npm ci")) continue
    if (failed && !step.always) continue
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.script], {
      cwd: dir,
      env: { ...process.env, HARNESS_PROGRESS_INTERVAL_MS: "0", ...env },
      encoding: "utf8"
    })
    codes.set(step.name, r.status ?? -1)
    if (r.status !== 0) failed = true
  }
  return codes
}

describe("the regression gate workflow, run step by step", () => {
  // about twenty harness processes: more room than the default under a loaded machine (no assertion on time)
  it("passes on an unchanged suite, and fails with exit 1 and a Markdown summary on a planted regression", {
    timeout: 600_000
  }, async () => {
    const steps = jobSteps(readFileSync(join(repoRoot, ".github", "workflows", "regression-gate.yml"), "utf8"), "gate")
    expect(steps.filter((s) => s.script !== null).map((s) => s.name)).toEqual([
      "install (compiles the TypeScript)",
      "import the committed baseline (its hash chain is verified)",
      "run the suite on a fresh ledger",
      "verify the ledger",
      "check against the baseline",
      "export the ledger"
    ])
    const root = scratch("fope-gate-")
    const bin = join(root, "bin")
    mkdirSync(bin)
    writeFileSync(join(bin, "npx"), FAKE_NPX)
    chmodSync(join(bin, "npx"), 0o755)
    const training = { length: 16, steps: 12, batchSize: 2, learningRate: 0.003, warmupSteps: 2 }
    const suite = writeSuite(root, tinySuite({ name: "gate", training }))

    // the committed baseline: a run exported as JSON Lines; its checkpoints become the first job's cache
    const passing = join(root, "passing")
    const baselineRun = await runHarness([
      "run",
      suite,
      "--ledger",
      join(root, "baseline.db"),
      "--checkpoints",
      join(passing, ".harness", "checkpoints")
    ])
    expect(baselineRun.code, baselineRun.stderr).toBe(0)
    const baseline = join(root, "baseline.jsonl")
    expect((await runHarness(["ledger", "export", "--ledger", join(root, "baseline.db"), "--out", baseline])).code).toBe(0)

    const job = (dir: string, suitePath: string) => {
      const summary = join(dir, "summary.md")
      const codes = runJob(steps, dir, {
        PATH: `${bin}:${process.env.PATH}`,
        SUITE: suitePath,
        BASELINE: baseline,
        GITHUB_STEP_SUMMARY: summary
      })
      return { codes, summary: existsSync(summary) ? readFileSync(summary, "utf8") : "" }
    }

    const ok = job(passing, suite)
    expect([...ok.codes.values()]).toEqual([0, 0, 0, 0, 0])
    expect(ok.summary.split("\n")[0]).toMatch(/^### ✅ harness check: no regression in \d+ comparisons$/)

    const regressed = join(root, "regressed")
    mkdirSync(join(regressed, "suite"), { recursive: true })
    const fewerSteps = writeSuite(join(regressed, "suite"), tinySuite({ name: "gate", training: { ...training, steps: 2 } }))
    const bad = job(regressed, fewerSteps)
    expect(Object.fromEntries(bad.codes)).toEqual({
      "import the committed baseline (its hash chain is verified)": 0,
      "run the suite on a fresh ledger": 0,
      "verify the ledger": 0,
      "check against the baseline": 1,
      "export the ledger": 0
    })
    expect(bad.summary.split("\n")[0]).toMatch(/^### ❌ harness check: \d+ of \d+ comparisons regressed$/)
    expect(bad.summary).toMatch(/^\| ❌ regression \| perplexity@16 \|/m)
    expect(bad.summary).toContain("**`gate/rope/nano`**")
    // what the artifact holds: the export, the Markdown, the JUnit report with the regressed cells failed
    expect(readFileSync(join(regressed, "ledger-export.jsonl"), "utf8")).toMatch(/"kind":"job.done"/)
    expect(readFileSync(join(regressed, "check.md"), "utf8")).toBe(bad.summary)
    const junit = parseXml(readFileSync(join(regressed, "check.xml"), "utf8"))
    expect(junitProblems(junit)).toEqual([])
    expect(junit.attrs.failures).toBe("2")
  })
})
