/**
 * `harness check --format markdown | junit | json`: the same verdicts and exit code as the table, rendered for a
 * CI job summary, a CI server's test report, and scripts; every changed cell names the ledger records behind it.
 */
import { describe, expect, it } from "vitest"
import { checkCommand, type CheckFormat } from "../../ledger/commands.js"
import { CHECK_JSON_FORMAT } from "../../ledger/check-format-json.js"
import { LedgerStore } from "../../ledger/store.js"
import type { MetricRecord, Reproducibility } from "../../ledger/types.js"
import { harness } from "../harness/helpers.js"
import { lossAt, tempLedgerPath, writeRun } from "./helpers.js"
import { junitProblems, parseXml, type XmlElement } from "./xml.js"

const LENGTHS = [64, 128]
const SEEDS = [1, 2, 3, 4, 5, 6, 7] // seven pairs: a sign-flip p of 1/128 stays below 0.05 after Holm over the 4 tested rows
const bitwise: Reproducibility = { mode: "bitwise" }

/** deterministic "noise" in [-1, 1] (a hash, no Math.random) */
const noise = (...xs: number[]): number => {
  let h = 2166136261
  for (const x of xs) h = Math.imul(h ^ Math.round(x * 1000), 16777619) >>> 0
  return (h / 2 ** 32) * 2 - 1
}

const quality = (cell: string, factor: number, salt: number) =>
  SEEDS.map((seed) => ({ cell, seed, metrics: lossAt(LENGTHS, (l) => (3 + l / 1000 + 0.01 * noise(seed, l, salt)) * factor) }))

const deterministic = (cell: string, metrics: MetricRecord[]) => [{ cell, seed: 0, metrics, reproducibility: bitwise }]

/**
 * Two ledgers, as CI has them (the committed baseline, the fresh run): one cell regressed (10% worse in all seven
 * seeds), one with seed noise within its threshold, one deterministic cell changed within its threshold, one
 * unchanged, one the candidate lacks.
 */
const ledgers = (options: { regress: boolean; oddName?: string }) => {
  const baseline = tempLedgerPath("baseline.sqlite")
  const candidate = tempLedgerPath("candidate.sqlite")
  const tiny = (v: number) => [{ name: "perplexity", value: v, unit: "ppl", better: "lower" as const, length: 32 }]
  const odd = options.oddName ?? "s/odd/nano"
  const a = LedgerStore.open(baseline)
  writeRun(a, [
    ...quality("s/fope/nano", 1, 0),
    ...quality("s/rope/nano", 1, 0),
    ...deterministic(odd, tiny(7.5)),
    ...deterministic("s/same/nano", tiny(8)),
    ...deterministic("s/gone/nano", tiny(9))
  ])
  a.close()
  const b = LedgerStore.open(candidate)
  writeRun(b, [
    ...quality("s/fope/nano", options.regress ? 1.1 : 1, 1),
    ...quality("s/rope/nano", 1, 1),
    ...deterministic(odd, tiny(7.5 * 1.001)),
    ...deterministic("s/same/nano", tiny(8))
  ])
  b.close()
  return { baseline, candidate }
}

const run = (files: { baseline: string; candidate: string }, format: CheckFormat) =>
  checkCommand({
    baseline: files.baseline,
    candidate: files.candidate,
    format,
    thresholds: { loss: { relative: 0.05 }, perplexity: { relative: 0.02 } }
  })

/** job name -> hash of its job.done record, read straight from the chain */
const doneHashes = (file: string): Map<string, string> => {
  const store = LedgerStore.open(file)
  try {
    const names = new Map(store.jobs().map((j) => [j.id, j.name] as const))
    return new Map(
      [...store.chainRecords()]
        .filter((r) => r.kind === "job.done")
        .map((r) => [names.get((r.data as { jobId: string }).jobId)!, r.hash] as const)
    )
  } finally {
    store.close()
  }
}

/** The rows of every GitHub-flavoured Markdown table, split on unescaped pipes; throws on a ragged table. */
const markdownTables = (text: string): string[][][] => {
  const tables: string[][][] = []
  let current: string[][] | null = null
  for (const line of text.split("\n")) {
    if (!line.startsWith("|")) {
      current = null
      continue
    }
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim())
    if (!current) tables.push((current = []))
    if (current.length > 0 && cells.length !== current[0]!.length) throw new Error(`ragged table row: ${line}`)
    current.push(cells)
  }
  for (const t of tables) if (!t[1]?.every((c) => /^:?-+:?$/.test(c))) throw new Error(`table without a delimiter row: ${t[0]}`)
  return tables
}

const testcase = (root: XmlElement, name: string): XmlElement =>
  root.children.flatMap((s) => s.children).find((c) => c.name === "testcase" && c.attrs.name === name)!

describe("check --format", () => {
  it("every format keeps the table's exit code: 1 with a regression, 0 without", () => {
    for (const regress of [true, false]) {
      const files = ledgers({ regress })
      const codes = (["table", "markdown", "junit", "json"] as const).map((f) => run(files, f).exitCode)
      expect(codes).toEqual(Array(4).fill(regress ? 1 : 0))
    }
  })

  it("junit: well-formed JUnit XML, one test case per compared cell; the regressed cell fails, the missing one is skipped", () => {
    const files = ledgers({ regress: true })
    const root = parseXml(run(files, "junit").text)
    expect(junitProblems(root)).toEqual([])
    expect(root.attrs).toMatchObject({ tests: "5", failures: "1", errors: "0", skipped: "1" })
    const cases = root.children.flatMap((s) => s.children).filter((c) => c.name === "testcase")
    expect(cases.map((c) => c.attrs.name).sort()).toEqual(["s/fope/nano", "s/gone/nano", "s/odd/nano", "s/rope/nano", "s/same/nano"])

    const fope = testcase(root, "s/fope/nano")
    const failure = fope.children.find((c) => c.name === "failure")!
    expect(failure.attrs.type).toBe("regression")
    expect(failure.attrs.message).toMatch(/^2 of 2 comparisons regressed: loss@64 \+10\.\d% \(threshold 5\.0%\), loss@128/)
    // the cell's changed rows, regressions first
    expect(failure.text.split("\n").map((l) => l.split(":")[0])).toEqual(["regression", "regression"])
    expect(failure.text).toMatch(/^regression: loss@64 /)
    // the records behind the cell, on both sides, in full
    const out = fope.children.find((c) => c.name === "system-out")!.text
    expect(out).toContain(`baseline: s/fope/nano/seed1 seed 1 job.done ${doneHashes(files.baseline).get("s/fope/nano/seed1")}`)
    expect(out).toContain(`candidate: s/fope/nano/seed6 seed 6 job.done ${doneHashes(files.candidate).get("s/fope/nano/seed6")}`)

    expect(testcase(root, "s/gone/nano").children.find((c) => c.name === "skipped")?.attrs.message).toBe("nothing judged: missing")
    // changed within its threshold: passes, and says what changed
    const odd = testcase(root, "s/odd/nano")
    expect(odd.children.map((c) => c.name)).toEqual(["system-out"])
    expect(odd.children[0]!.text).toMatch(/^changed \(deterministic\): perplexity@32 7\.5 -> 7\.507 \(\+0\.0075, \+0\.1%; threshold 2\.0%/)
    expect(testcase(root, "s/rope/nano").children.map((c) => c.name)).toEqual(["system-out"])
    expect(testcase(root, "s/same/nano").children.map((c) => c.name)).toEqual(["system-out"])
  })

  it("junit escapes what XML cannot hold raw, and the names survive the round trip", () => {
    const name = `s/<a & "b">'|/nano`
    const root = parseXml(run(ledgers({ regress: true, oddName: name }), "junit").text)
    expect(junitProblems(root)).toEqual([])
    expect(testcase(root, name)).toBeDefined()
  })

  it("markdown: the verdict first (heading and a table of verdict counts), then each changed cell with its record hashes", () => {
    const files = ledgers({ regress: true })
    const text = run(files, "markdown").text
    const lines = text.split("\n")
    expect(lines[0]).toBe("### ❌ harness check: 2 of 7 comparisons regressed")
    const [verdicts, firstCell, ...others] = markdownTables(text)
    expect(verdicts![0]).toEqual(["verdict", "comparisons"])
    expect(verdicts!.slice(2)).toEqual([
      ["❌ regression", "2"],
      ["⚠️ changed (deterministic)", "1"],
      ["⚠️ missing", "1"],
      ["within threshold", "2"],
      ["unchanged", "1"]
    ])
    // the verdict table comes before any cell
    expect(text.indexOf("| verdict | comparisons |")).toBeLessThan(text.indexOf("#### Changed cells"))
    // the regressed cell first, with the first 12 hex digits of every job.done record on both sides
    expect(firstCell![0]).toEqual(["verdict", "metric", "baseline", "candidate", "change", "rel", "threshold", "n", "p (Holm)", "test"])
    expect(firstCell!.slice(2).map((r) => [r[0], r[1], r[6], r[9]])).toEqual([
      ["❌ regression", "loss@64", "5.0%", "sign-flip"],
      ["❌ regression", "loss@128", "5.0%", "sign-flip"]
    ])
    const heading = lines.find((l) => l.startsWith("**`s/fope/nano`**"))!
    for (const [side, file] of [
      ["baseline", files.baseline],
      ["candidate", files.candidate]
    ] as const) {
      for (const seed of SEEDS)
        expect(heading).toContain(`\`${doneHashes(file).get(`s/fope/nano/seed${seed}`)!.slice(0, 12)}\` (seed ${seed})`)
      expect(heading).toContain(`${side} records`)
    }
    // the unchanged cell is left out (it is in --all), the others follow in the order of their verdicts
    expect(text).not.toContain("`s/same/nano`")
    expect(others).toHaveLength(3)
    expect(["s/odd/nano", "s/gone/nano", "s/rope/nano"].map((c) => text.indexOf(`**\`${c}\`**`))).toEqual(
      ["s/odd/nano", "s/gone/nano", "s/rope/nano"].map((c) => text.indexOf(`**\`${c}\`**`)).sort((x, y) => x - y)
    )
    expect(run(files, "markdown").text).toBe(text)
    expect(checkCommand({ baseline: files.baseline, candidate: files.candidate, format: "markdown", all: true }).text).toContain(
      "**`s/same/nano`**"
    )
  })

  it("markdown without a regression says so in its first line, and a pipe in a cell name does not break the table", () => {
    const text = run(ledgers({ regress: false, oddName: "s/a|b/nano" }), "markdown").text
    expect(text.split("\n")[0]).toBe("### ✅ harness check: no regression in 7 comparisons")
    expect(markdownTables(text).length).toBeGreaterThan(1)
  })

  it("json: the check result, a summary and the full record hashes per cell; --json is --format json", async () => {
    const files = ledgers({ regress: true })
    const doc = JSON.parse(run(files, "json").text)
    expect(doc).toMatchObject({
      format: CHECK_JSON_FORMAT,
      exitCode: 1,
      summary: { comparisons: 7, regressions: 2, verdicts: { regression: 2, missing: 1 } }
    })
    expect(doc.rows).toHaveLength(7)
    const fope = doc.cells.find((c: { cell: string }) => c.cell === "s/fope/nano")
    expect(fope).toMatchObject({ verdict: "regression", regressions: 2, comparisons: 2 })
    expect(fope.candidateRecords.map((r: { hash: string }) => r.hash)).toEqual(
      SEEDS.map((s) => doneHashes(files.candidate).get(`s/fope/nano/seed${s}`))
    )

    const viaFormat = await harness("check", "--baseline", files.baseline, "--candidate", files.candidate, "--format", "json")
    const viaJson = await harness("check", "--baseline", files.baseline, "--candidate", files.candidate, "--json")
    expect(viaFormat.exitCode).toBe(1)
    expect(viaJson.exitCode).toBe(1)
    expect(JSON.parse(viaFormat.out)).toEqual(JSON.parse(viaJson.out))
  })

  it("the CLI prints the chosen format with the same exit code, and refuses an unknown one", async () => {
    const files = ledgers({ regress: true })
    const junit = await harness("check", "--baseline", files.baseline, "--candidate", files.candidate, "--format", "junit")
    expect(junit.exitCode).toBe(1)
    expect(junitProblems(parseXml(junit.out))).toEqual([])
    const table = await harness("check", "--baseline", files.baseline, "--candidate", files.candidate)
    expect(table.exitCode).toBe(1)
    expect(table.out).toMatch(/REGRESSION: 2 of 7 comparisons regressed \(exit 1\)/)
    const bad = await harness("check", "--baseline", files.baseline, "--candidate", files.candidate, "--format", "html")
    expect(bad.exitCode).not.toBe(0)
    expect(`${bad.out}${bad.err}`).toMatch(/markdown/)
  })
})
