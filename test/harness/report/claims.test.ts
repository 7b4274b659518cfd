/** The claims' verdict logic: per-seed statistics, paired comparisons, preconditions, and RESULTS.md's shape. */
import { describe, expect, it } from "vitest"
import { CLAIMS } from "../../../harness/report/claims/claims.js"
import { compare, type ComparisonSpec } from "../../../harness/report/claims/compare.js"
import { floorClipKept, judgeClaim, renderResults } from "../../../harness/report/claims/render-results.js"
import { statisticOf } from "../../../harness/report/claims/statistic.js"
import { groupSeries } from "../../../harness/report/series.js"
import type { ReportInput, ReportJob, ReportMetric } from "../../../harness/report/types.js"
import { fakeHash } from "./fixture.js"

const L = 64
const LENGTHS = [64, 128, 256, 512]

/** A done job whose perplexity at length l is base * growth^log2(l / L) (times a per-seed factor). */
const job = (suite: string, embedding: string, seed: number, ppl: (length: number) => number, extra: ReportMetric[] = []): ReportJob => ({
  name: `${suite}/${embedding}/nano/seed${seed}`,
  cell: { embedding, scale: "nano", seed },
  key: fakeHash(`key/${embedding}/${seed}`),
  recordHash: fakeHash(`record/${embedding}/${seed}`),
  status: "done",
  trainLength: L,
  backend: "wasm (1 thread)",
  metrics: [
    ...LENGTHS.map((length) => ({ name: "perplexity", value: ppl(length), unit: "ppl", better: "lower" as const, length })),
    ...extra
  ]
})

const growth = (base: number, g: number, seedFactor: number) => (length: number) => base * g ** Math.log2(length / L) * seedFactor

describe("per-seed statistics", () => {
  const j = job("s", "rope", 0, growth(10, 2, 1))
  it("beyond L: the mean log perplexity over the lengths past L (a geometric mean)", () => {
    // lengths 128, 256, 512: 20, 40, 80 -> mean log = log 40
    expect(statisticOf({ kind: "beyond", metric: "perplexity", fromMultiple: 1, log: true }, j)).toBeCloseTo(Math.log(40), 12)
    expect(statisticOf({ kind: "beyond", metric: "perplexity", fromMultiple: 2, log: false }, j)).toBeCloseTo(60, 12)
  })
  it("at a multiple, degradation, and missing metrics", () => {
    expect(statisticOf({ kind: "at", metric: "perplexity", multiple: 4, log: false }, j)).toBe(40)
    expect(statisticOf({ kind: "degradation", metric: "perplexity" }, j)).toBeCloseTo(Math.log(4), 12)
    expect(statisticOf({ kind: "at", metric: "perplexity", multiple: 16, log: false }, j)).toBeNull()
    expect(statisticOf({ kind: "scalar", metric: "spectrum_damage" }, j)).toBeNull()
    const withSpectrum = job("s", "rope", 0, growth(10, 2, 1), [
      { name: "spectrum_damage", value: 0.25, unit: "fraction", better: "lower", length: L }
    ])
    expect(statisticOf({ kind: "scalar", metric: "spectrum_damage" }, withSpectrum)).toBe(0.25) // recorded at the training length
  })
})

const spec: ComparisonSpec = {
  text: "fope below rope beyond L",
  a: { series: "fope", stat: { kind: "beyond", metric: "perplexity", fromMultiple: 1, log: true } },
  b: { series: "rope", stat: { kind: "beyond", metric: "perplexity", fromMultiple: 1, log: true } },
  expect: "lower"
}

describe("paired comparisons", () => {
  const seeds = [0, 1, 2, 3, 4]
  it("holds when every one of 5 seeds agrees (exact one-sided p = 1/32)", () => {
    const jobs = seeds.flatMap((s) => [job("s", "rope", s, growth(10, 2, 1 + 0.1 * s)), job("s", "fope", s, growth(10, 1.5, 1 + 0.1 * s))])
    const r = compare(spec, groupSeries(jobs))
    expect(r.pairs).toHaveLength(5)
    expect(r.agreeing).toBe(5)
    expect(r.pClaim).toBeCloseTo(1 / 32, 12)
    expect(r.verdict).toBe("holds")
  })
  it("is contradicted when every seed goes the other way", () => {
    const jobs = seeds.flatMap((s) => [job("s", "rope", s, growth(10, 1.5, 1)), job("s", "fope", s, growth(10, 2, 1))])
    expect(compare(spec, groupSeries(jobs)).verdict).toBe("contradicted")
  })
  it("is unclear when the difference is within the seed spread, or with too few seeds", () => {
    const mixed = seeds.flatMap((s) => [job("s", "rope", s, growth(10, 2, 1)), job("s", "fope", s, growth(10, s % 2 ? 2.2 : 1.8, 1))])
    expect(compare(spec, groupSeries(mixed)).verdict).toBe("unclear")
    const three = [0, 1, 2].flatMap((s) => [job("s", "rope", s, growth(10, 3, 1)), job("s", "fope", s, growth(10, 1, 1))])
    const r = compare(spec, groupSeries(three))
    expect(r.agreeing).toBe(3)
    expect(r.pClaim).toBeCloseTo(1 / 8, 12) // 3 seeds can never reach 0.05
    expect(r.verdict).toBe("unclear")
  })
  it("pairs only the seeds both sides finished", () => {
    const jobs = [...seeds.map((s) => job("s", "rope", s, growth(10, 2, 1))), ...[1, 3].map((s) => job("s", "fope", s, growth(10, 1, 1)))]
    expect(compare(spec, groupSeries(jobs)).pairs.map((p) => p.seed)).toEqual([1, 3])
  })
})

describe("claims", () => {
  it("claim 1 is inconclusive when the passkey task was not learned at the training length", () => {
    const claim = CLAIMS.find((c) => c.id === 1)!
    const passkey = (acc: number): ReportMetric[] =>
      [64, 128, 256, 512].map((length) => ({
        name: "passkey_accuracy",
        value: length === 64 ? acc : 0,
        unit: "fraction",
        better: "higher",
        length
      }))
    const jobs = [0, 1, 2, 3, 4].flatMap((s) => [
      job("p", "rope", s, growth(10, 2, 1), passkey(0.1)),
      job("p", "fope", s, growth(10, 1, 1), passkey(0.1))
    ])
    const outcome = judgeClaim(claim, groupSeries(jobs))
    expect(outcome.verdict).toBe("inconclusive")
    expect(outcome.reasons.join("\n")).toMatch(/precondition not met: RoPE learned the task/)
  })

  it("FoPE's floor clip at head dim 16: 3 of 8 frequencies fit in 64 tokens (periods 6.3, 19.9, 62.8)", () => {
    expect(floorClipKept(16, 64)).toEqual({ kept: 3, total: 8, longestKeptPeriod: expect.closeTo(62.83, 2) })
    expect(floorClipKept(32, 256).kept).toBe(7) // periods 6.3 .. 198.7; the next is 353
  })

  it("RESULTS.md: a verdict per claim, the comparison tables and every job's record hash; the same input gives the same bytes", () => {
    const jobs = [0, 1, 2, 3, 4].flatMap((s) => [
      job("claims-perplexity", "rope", s, growth(10, 2, 1 + 0.01 * s)),
      job("claims-perplexity", "fope", s, growth(10, 1.2, 1 + 0.01 * s))
    ])
    const suite: ReportInput = { suite: "claims-perplexity", description: "", generatedAt: "t", ledgerPath: "x", ledgerHeadHash: "h", jobs }
    const input = {
      suites: [suite],
      ledgerHeadHash: "h".repeat(64),
      recordCount: 10,
      provenance: [],
      plotFolder: (s: string) => `results/${s}`
    }
    const a = renderResults(input)
    expect(a.markdown).toBe(renderResults(input).markdown)
    for (const claim of CLAIMS) expect(a.markdown).toContain(`## ${claim.id}. ${claim.title}: `)
    expect(a.outcomes.find((o) => o.claim.id === 2)!.comparisons[0]!.verdict).toBe("holds")
    for (const j of jobs) expect(a.markdown).toContain(j.recordHash)
    expect(a.markdown).toContain("[report and plots](results/claims-perplexity/README.md)")
  })
})
