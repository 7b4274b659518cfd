/**
 * The GitHub Actions workflows a user copies (.github/workflows): every `harness` call in them names a subcommand,
 * flags, flag values and arguments the CLI has; the regression gate runs what .ci/gate runs; its checkpoint cache
 * is keyed by what the code version hashes; the Markdown verdict reaches the job summary and the ledger export
 * the artifact. And the command check itself catches the mistakes it exists for.
 */
import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { SOURCE_FILES, SOURCE_FOLDERS } from "../../harness/provenance/code-version.js"
import { repoRoot } from "../harness/helpers.js"
import { cliProblems, flagValue, harnessCalls, shellCommands, subcommandOf, workflowRunScripts } from "./recipe-commands.js"

const workflowDir = join(repoRoot, ".github", "workflows")
const read = (...path: string[]) => readFileSync(join(repoRoot, ...path), "utf8")
const callsIn = (script: string) => harnessCalls(shellCommands(script))
const workflowCalls = (file: string) => workflowRunScripts(read(".github", "workflows", file)).flatMap(callsIn)

describe("the command check", () => {
  it("finds the run: scripts of a workflow, plain and block, and the harness calls in them", () => {
    const yaml = [
      "jobs:",
      "  a:",
      "    steps:",
      "      - run: npx harness run smoke --ledger ci.db",
      "      - name: two lines",
      "        run: |",
      "          set +e",
      '          npx --no-install harness check --baseline b.db --format markdown > "$OUT" || true',
      "          node bin/harness.js ledger merge m.db \\",
      "            s1.db s2.db",
      "      - uses: actions/cache@v4",
      "        with:",
      "          path: x # run: harness nothing"
    ].join("\n")
    expect(workflowRunScripts(yaml).flatMap(callsIn)).toEqual([
      ["run", "smoke", "--ledger", "ci.db"],
      ["check", "--baseline", "b.db", "--format", "markdown"],
      ["ledger", "merge", "m.db", "s1.db", "s2.db"]
    ])
  })

  it("rejects an unknown subcommand, flag or choice, a missing value and a wrong number of arguments", async () => {
    expect(await cliProblems(["run", "smoke", "--shard", "1/2", "--ledger", "a.db"])).toEqual([])
    expect(await cliProblems(["ledger", "merge", "m.db", "a.db", "b.db"])).toEqual([])
    expect(await cliProblems(["check", "--baseline", "b.db", "--format", "$FORMAT"])).toEqual([])
    expect((await cliProblems(["chek", "--baseline", "b.db"]))[0]).toMatch(/"chek" is not a subcommand of harness/)
    expect((await cliProblems(["ledger", "merg", "m.db"]))[0]).toMatch(/"merg" is not a subcommand of harness ledger/)
    expect(await cliProblems(["check", "--baseline", "b.db", "--formt", "junit"])).toEqual([
      "harness check --baseline b.db --formt junit: harness check has no flag --formt",
      "harness check --baseline b.db --formt junit: harness check takes 0 arguments, given 1 (junit)"
    ])
    expect(await cliProblems(["check", "--baseline", "b.db", "--format", "xml"])).toEqual([
      "harness check --baseline b.db --format xml: --format xml is not one of table, markdown, junit, json"
    ])
    expect(await cliProblems(["ledger", "verify", "--ledger"])).toEqual(["harness ledger verify --ledger: --ledger needs a value"])
    expect((await cliProblems(["ledger", "merge", "m.db"]))[0]).toMatch(/takes 2 or more arguments, given 1/)
    expect((await cliProblems(["run"]))[0]).toMatch(/takes 1 arguments, given 0/)
    expect(await cliProblems(["run", "$SUITE", "${RUN_FLAGS:-}"])).toEqual([])
    expect((await cliProblems(["run", "smoke", "quickstart"]))[0]).toMatch(/takes 1 arguments, given 2/)
  })
})

describe(".github/workflows", () => {
  const files = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f))

  it("holds the regression gate and the sharded suite, written without tabs", () => {
    expect(files.sort()).toEqual(["regression-gate.yml", "sharded-suite.yml"])
    for (const f of files) expect(read(".github", "workflows", f)).not.toMatch(/\t/)
  })

  it("every harness call in every workflow is one the CLI accepts", async () => {
    for (const f of files) {
      const calls = workflowCalls(f)
      expect(calls.length, f).toBeGreaterThan(2)
      for (const call of calls) expect(await cliProblems(call), `${f}: harness ${call.join(" ")}`).toEqual([])
    }
  })

  it("the regression gate runs the harness commands .ci/gate runs, in its order, and the test job what .ci/run runs", () => {
    const gate = callsIn(read(".ci", "gate"))
    const workflow = workflowCalls("regression-gate.yml")
    // the gate's calls, each found in the workflow in the same order (the workflow adds formats and an export)
    let at = 0
    for (const call of gate) {
      const sub = subcommandOf(call)
      const flags = call.filter((a) => a.startsWith("--")).sort()
      const found = workflow.findIndex((w, i) => i >= at && subcommandOf(w) === sub && flags.every((f) => w.includes(f)))
      expect(found, `.ci/gate's harness ${call.join(" ")}`).toBeGreaterThanOrEqual(at)
      at = found + 1
    }
    const scripts = workflowRunScripts(read(".github", "workflows", "regression-gate.yml"))
    for (const command of ["npm ci", "npm run typecheck", "npm test"]) {
      expect(read(".ci", "run"), command).toContain(command)
      expect(
        scripts.some((s) => s.startsWith(command)),
        command
      ).toBe(true)
    }
  })

  it("the gate imports the committed baseline, judges the run against it, and writes Markdown to the job summary", () => {
    const yaml = read(".github", "workflows", "regression-gate.yml")
    const baseline = /^\s+BASELINE: (\S+)$/m.exec(yaml)?.[1]
    expect(baseline).toBe("baselines/smoke.jsonl")
    expect(read(baseline!)).toMatch(/"kind":"run.begin"/)
    const calls = workflowCalls("regression-gate.yml")
    const imported = calls.find((c) => subcommandOf(c) === "ledger import")!
    const ran = calls.find((c) => subcommandOf(c) === "run")!
    const checks = calls.filter((c) => subcommandOf(c) === "check")
    expect(checks.map((c) => flagValue(c, "--format") ?? "table").sort()).toEqual(["junit", "markdown"])
    for (const c of checks) {
      expect(flagValue(c, "--baseline")).toBe(flagValue(imported, "--ledger"))
      expect(flagValue(c, "--ledger")).toBe(flagValue(ran, "--ledger"))
    }
    const check = workflowRunScripts(yaml).find((s) => s.includes("--format markdown"))!
    expect(check).toMatch(/--format markdown > check\.md\n/)
    expect(check).toMatch(/tee -a "\$GITHUB_STEP_SUMMARY" < check\.md/)
    // the step ends with the Markdown check's exit code (the JUnit call must not mask it)
    expect(check).toMatch(/--format markdown > check\.md\n\s*status=\$\?/)
    expect(check.trimEnd().split("\n").at(-1)).toBe("exit $status")
    // the export and the reports are uploaded whatever the verdict
    const exported = calls.find((c) => subcommandOf(c) === "ledger export")!
    const upload =
      /- name: upload[^\n]*\n\s+if: always\(\)\n\s+uses: actions\/upload-artifact@v4\n(?:\s+.*\n)*?\s+path: \|\n((?:\s{12}\S.*\n)+)/.exec(
        yaml
      )
    expect(upload, "an upload-artifact step with if: always()").not.toBeNull()
    expect(
      upload![1]!
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
    ).toEqual([flagValue(exported, "--out"), "check.md", "check.xml"])
  })

  it("each checkpoint cache holds the folder harness run writes, keyed by the suite and every file the code version hashes", () => {
    for (const f of files) {
      const yaml = read(".github", "workflows", f)
      const caches = [...yaml.matchAll(/uses: actions\/cache@v4\n\s+with:\n\s+path: (\S+)\n\s+key: (.+)\n/g)]
      expect(caches.length, f).toBe(1)
      const [, path, key] = caches[0]!
      for (const run of workflowCalls(f).filter((c) => subcommandOf(c) === "run")) expect(flagValue(run, "--checkpoints")).toBe(path)
      expect(key).toMatch(/\$\{\{ env\.SUITE \}\}/)
      const globs = [...key!.matchAll(/'([^']+)'/g)].map((m) => m[1]!)
      const covered = (file: string) => globs.some((g) => g === file || (g.endsWith("/**") && file.startsWith(g.slice(0, -2))))
      for (const folder of SOURCE_FOLDERS) expect(globs, `${f}: ${folder}`).toContain(`${folder}/**`)
      for (const file of SOURCE_FILES) expect(covered(file), `${f}: ${file}`).toBe(true)
    }
  })

  it("the sharded suite runs shard i of the matrix's size, and merges and verifies what the shards uploaded", () => {
    const yaml = read(".github", "workflows", "sharded-suite.yml")
    const calls = workflowCalls("sharded-suite.yml")
    const run = calls.find((c) => subcommandOf(c) === "run")!
    expect(yaml).toContain('--shard "${{ matrix.shard }}/${{ strategy.job-total }}"')
    expect(yaml).toMatch(/matrix:\n\s+shard: \[1, 2, 3, 4\]/)
    expect(flagValue(run, "--ledger")).toBe("shard-__expression__.db")
    expect(yaml).toMatch(/name: shard-\$\{\{ matrix\.shard \}\}\n\s+path: shard-\$\{\{ matrix\.shard \}\}\.db/)
    expect(yaml).toMatch(/pattern: shard-\*\n\s+path: shards\n\s+merge-multiple: true/)
    const merge = calls.find((c) => subcommandOf(c) === "ledger merge")!
    expect(merge.slice(2)).toEqual(["merged.db", "shards/shard-*.db"])
    expect(calls.some((c) => subcommandOf(c) === "ledger verify" && flagValue(c, "--ledger") === "merged.db")).toBe(true)
  })
})
