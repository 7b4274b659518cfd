import { describe, expect, it } from "vitest"
import { checkRegressions, renderCheck } from "../../ledger/check.js"
import { checkCommand, diffCommand } from "../../ledger/commands.js"
import { diffFields, diffSides, renderDiff } from "../../ledger/diff.js"
import { compareForCertificate } from "../../ledger/reproduce.js"
import { loadSide } from "../../ledger/sides.js"
import { LedgerStore } from "../../ledger/store.js"
import type { MetricRecord, Reproducibility } from "../../ledger/types.js"
import { lossAt, tempLedgerPath, writeRun } from "./helpers.js"

const LENGTHS = [64, 128]
/** deterministic "noise" in [-1, 1] (a hash, no Math.random) */
const noise = (...xs: number[]): number => {
  let h = 2166136261
  for (const x of xs) h = Math.imul(h ^ Math.round(x * 1000), 16777619) >>> 0
  return (h / 2 ** 32) * 2 - 1
}

const qualityJobs = (seeds: ReadonlyArray<number>, factor: number, salt: number, reproducibility?: Reproducibility) =>
  seeds.map((seed) => ({
    cell: "s/fope/tiny",
    seed,
    metrics: lossAt(LENGTHS, (l) => (3 + l / 1000 + 0.01 * noise(seed, l, salt)) * factor),
    ...(reproducibility ? { reproducibility } : {})
  }))

const side = (store: LedgerStore, runId: string) => loadSide(store, { kind: "run", runId })

describe("check", () => {
  it("a metric worse beyond its threshold in every seed (6 seeds) is a regression: exit 1", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const seeds = [1, 2, 3, 4, 5, 6]
    const base = writeRun(store, qualityJobs(seeds, 1, 0))
    const worse = writeRun(store, qualityJobs(seeds, 1.1, 0))
    const result = checkRegressions(side(store, base), side(store, worse), { thresholds: { loss: { relative: 0.05 } } })
    expect(result.exitCode).toBe(1)
    expect(result.regressions).toHaveLength(2)
    expect(result.regressions[0]).toMatchObject({
      verdict: "regression",
      kind: "quality",
      n: 6,
      test: { test: "sign-flip", pValue: 1 / 64 }
    })
    expect(result.regressions[0].pAdjusted).toBeCloseTo(2 / 64, 12) // Holm over 2 lengths
    const text = renderCheck(result)
    expect(text).toMatch(/! regression\s+s\/fope\/tiny\s+loss\s+64/)
    expect(text).toMatch(/REGRESSION: 2 of 2 comparisons regressed \(exit 1\)/)
    // the same change under a 20% threshold is not a regression
    expect(checkRegressions(side(store, base), side(store, worse), { thresholds: { loss: { relative: 0.2 } } }).exitCode).toBe(0)
    store.close()
  })

  it("with 3 seeds the paired t-test is used and still finds a consistent regression", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const base = writeRun(store, qualityJobs([1, 2, 3], 1, 0))
    const worse = writeRun(store, qualityJobs([1, 2, 3], 1.1, 0))
    const result = checkRegressions(side(store, base), side(store, worse))
    expect(result.rows[0].test?.test).toBe("paired-t")
    expect(result.exitCode).toBe(1)
    store.close()
  })

  it("A/A rerun (same setup, different noise) exits 0; an improvement is reported, not failed", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const seeds = [1, 2, 3, 4, 5, 6]
    const a = writeRun(store, qualityJobs(seeds, 1, 0))
    const a2 = writeRun(store, qualityJobs(seeds, 1, 1))
    const aa = checkRegressions(side(store, a), side(store, a2), { thresholds: { loss: { relative: 0.05 } } })
    expect(aa.exitCode).toBe(0)
    expect(aa.rows.every((r) => r.verdict === "within threshold")).toBe(true)
    const better = writeRun(store, qualityJobs(seeds, 0.8, 0))
    const imp = checkRegressions(side(store, a), side(store, better))
    expect(imp.exitCode).toBe(0)
    expect(imp.rows.map((r) => r.verdict)).toEqual(["improvement", "improvement"])
    store.close()
  })

  it("deterministic (bitwise) cells: any change is flagged; worse beyond threshold is a regression", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const bitwise: Reproducibility = { mode: "bitwise" }
    const a = writeRun(store, qualityJobs([1], 1, 0, bitwise))
    const same = writeRun(store, qualityJobs([1], 1, 0, bitwise))
    expect(checkRegressions(side(store, a), side(store, same)).rows.map((r) => r.verdict)).toEqual(["unchanged", "unchanged"])
    // a change too small to matter is flagged in the table, without failing the gate
    const tiny = writeRun(store, qualityJobs([1], 1 + 1e-12, 0, bitwise))
    const flagged = checkRegressions(side(store, a), side(store, tiny))
    expect(flagged.rows.map((r) => r.verdict)).toEqual(["changed (deterministic)", "changed (deterministic)"])
    expect(flagged.exitCode).toBe(0)
    // one seed is enough on a bitwise backend: there is no noise to test against
    const worse = writeRun(store, qualityJobs([1], 1.2, 0, bitwise))
    const result = checkRegressions(side(store, a), side(store, worse), { thresholds: { loss: { relative: 0.05 } } })
    expect(result.exitCode).toBe(1)
    expect(result.regressions.map((r) => r.verdict)).toEqual(["regression", "regression"])
    store.close()
  })

  it("one seed on a non-deterministic backend cannot be tested: untested, exit 0", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const a = writeRun(store, qualityJobs([1], 1, 0))
    const b = writeRun(store, qualityJobs([1], 1.5, 0))
    const result = checkRegressions(side(store, a), side(store, b))
    expect(result.rows.map((r) => r.verdict)).toEqual(["untested", "untested"])
    expect(result.exitCode).toBe(0)
    store.close()
  })

  it("timing metrics are judged on their repeats with Mann-Whitney U", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const timing = (center: number, salt: number): MetricRecord[] =>
      Array.from({ length: 8 }, (_, i) => ({
        name: "step_time",
        value: center * (1 + 0.02 * noise(i, salt)),
        unit: "ms",
        better: "lower" as const
      }))
    const a = writeRun(store, [{ cell: "bench/rope", seed: 0, metrics: timing(10, 1) }])
    const a2 = writeRun(store, [{ cell: "bench/rope", seed: 0, metrics: timing(10, 2) }])
    const slow = writeRun(store, [{ cell: "bench/rope", seed: 0, metrics: timing(12, 3) }])
    const aa = checkRegressions(side(store, a), side(store, a2))
    expect(aa.rows[0]).toMatchObject({ kind: "timing", n: 8, test: { test: "mann-whitney-exact" } })
    expect(aa.exitCode).toBe(0)
    const reg = checkRegressions(side(store, a), side(store, slow), { thresholds: { step_time: { relative: 0.1 } } })
    expect(reg.rows[0]).toMatchObject({ verdict: "regression", test: { statistic: 64 } })
    expect(reg.exitCode).toBe(1)
    store.close()
  })

  it("checkCommand: baseline from a ledger file, candidate = latest run of another ledger", () => {
    const basePath = tempLedgerPath("baseline.sqlite")
    const candPath = tempLedgerPath("candidate.sqlite")
    const seeds = [1, 2, 3, 4, 5, 6]
    const b = LedgerStore.open(basePath)
    writeRun(b, qualityJobs(seeds, 1, 0))
    b.close()
    const c = LedgerStore.open(candPath)
    writeRun(c, qualityJobs(seeds, 1.1, 0))
    c.close()
    const out = checkCommand({ ledger: candPath, baseline: basePath, thresholds: { loss: { relative: 0.05 } } })
    expect(out.exitCode).toBe(1)
    expect(out.text).toContain("REGRESSION")
    expect(checkCommand({ ledger: candPath, baseline: "no-such-run" })).toMatchObject({
      exitCode: 2,
      text: expect.stringMatching(/matches no run id/)
    })
  })
})

describe("diff", () => {
  it("shows only what changed, pairs by seed, and attributes each difference", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const seeds = [1, 2, 3, 4, 5]
    const a = writeRun(store, [
      ...qualityJobs(seeds, 1, 0).map((j) => ({ ...j, config: { cell: j.cell, lr: 0.001 } })),
      { cell: "s/rope/tiny", seed: 1, metrics: lossAt(LENGTHS, () => 4) }
    ])
    const b = writeRun(
      store,
      [
        ...qualityJobs(seeds, 1.1, 0).map((j) => ({ ...j, config: { cell: j.cell, lr: 0.002 } })),
        { cell: "s/rope/tiny", seed: 1, metrics: lossAt(LENGTHS, () => 4) }
      ],
      { environment: { node: "v22.0.0", backend: "cpu", threads: 1 } }
    )
    const report = diffSides(side(store, a), side(store, b))
    expect(report.compared).toBe(4)
    expect(report.changed).toBe(2)
    expect(report.rows.map((r) => [r.cell, r.length])).toEqual([
      ["s/fope/tiny", 64],
      ["s/fope/tiny", 128]
    ])
    expect(report.rows[0]).toMatchObject({
      pairs: 5,
      test: { test: "sign-flip", pValue: 2 / 32 },
      attribution: ["configuration", "environment"]
    })
    const fope = report.cells.find((c) => c.cell === "s/fope/tiny")!
    expect(fope.configChanges).toEqual([{ path: "lr", a: 0.001, b: 0.002 }])
    expect(fope.environmentChanges).toEqual([{ path: "node", a: "v20.20.2", b: "v22.0.0" }])
    expect(renderDiff(report)).toMatch(/configuration\s+lr: 0.001 -> 0.002/)
    expect(diffSides(side(store, a), side(store, b), { all: true }).rows).toHaveLength(4)
    store.close()
  })

  it("a change with nothing recorded different is 'unexplained'; seeds only on one side are reported", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const a = writeRun(store, qualityJobs([1, 2], 1, 0))
    const b = writeRun(store, qualityJobs([1, 3], 1, 1))
    const report = diffSides(side(store, a), side(store, b))
    expect(report.cells[0].seeds).toEqual({ onlyInA: [2], onlyInB: [3] })
    expect(report.rows[0].attribution).toEqual(["seed"])
    const c = writeRun(store, qualityJobs([1, 2], 1, 7))
    expect(diffSides(side(store, a), side(store, c)).rows[0].attribution).toEqual(["unexplained"])
    store.close()
  })

  it("diffCommand compares two ledger files and diffFields goes field by field", () => {
    const p1 = tempLedgerPath("one.sqlite")
    const p2 = tempLedgerPath("two.sqlite")
    const s1 = LedgerStore.open(p1)
    writeRun(s1, qualityJobs([1, 2], 1, 0), { git: { commit: "aaa", dirtyHash: null } })
    s1.close()
    const s2 = LedgerStore.open(p2)
    writeRun(s2, qualityJobs([1, 2], 1.2, 0), { git: { commit: "bbb", dirtyHash: null } })
    s2.close()
    const out = diffCommand({ a: p1, b: p2 })
    expect(out.exitCode).toBe(0)
    expect(out.text).toMatch(/code\s+gitCommit: aaa -> bbb/)
    expect(diffFields({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, d: 1 })).toEqual([
      { path: "a.b.1", a: 2, b: 3 },
      { path: "c", a: 1, b: undefined },
      { path: "d", a: undefined, b: 1 }
    ])
  })
})

describe("reproduce certificates", () => {
  const metrics: MetricRecord[] = [
    { name: "loss", value: 3.25, unit: "nats", better: "lower", length: 64 },
    { name: "step_time", value: 12, unit: "ms", better: "lower" }
  ]
  it("bitwise certifies identical values (timings ignored) and fails on one ulp", () => {
    const same = compareForCertificate("j", metrics, [metrics[0], { ...metrics[1], value: 15 }], { mode: "bitwise" })
    expect(same).toMatchObject({ verdict: "certified", compared: 1, maxAbsDiff: 0 })
    const ulp = compareForCertificate("j", metrics, [{ ...metrics[0], value: 3.2500000000000004 }], { mode: "bitwise" })
    expect(ulp.verdict).toBe("failed")
    expect(compareForCertificate("j", metrics, [{ ...metrics[0], value: 3.2501 }], { mode: "tolerance", tolerance: 1e-4 }).verdict).toBe(
      "certified"
    )
  })
})

describe("thresholds by metric family", () => {
  it("an extension or per-method metric falls back to its family's threshold", async () => {
    const { thresholdFor } = await import("../../ledger/check.js")
    const t = { perplexity: { relative: 0.02 }, time_ms: { relative: 0.1 }, "perplexity@yarn": { relative: 0.05 } }
    expect(thresholdFor(t, "perplexity")).toEqual({ relative: 0.02 })
    expect(thresholdFor(t, "perplexity@pi")).toEqual({ relative: 0.02 })
    expect(thresholdFor(t, "perplexity@yarn")).toEqual({ relative: 0.05 })
    expect(thresholdFor(t, "time_ms.rope")).toEqual({ relative: 0.1 })
    expect(thresholdFor(t, "val_loss")).toBeUndefined()
  })
})
