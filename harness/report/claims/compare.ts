/**
 * One directional comparison of a claim ("FoPE's perplexity beyond L is lower than RoPE's"), judged paired by
 * seed with the exact sign-flip test the regression gate uses (ledger/stats.ts): distribution-free, and with 5
 * seeds its smallest one-sided p is 2^-5 = 0.031, so a comparison can only "hold" when every seed agrees in
 * direction (or nearly, with large differences); 3 seeds can never reach 0.05, which is why the claims suites
 * run 5.
 *
 *   holds        one-sided p <= ALPHA in the claimed direction
 *   contradicted one-sided p <= ALPHA in the opposite direction
 *   unclear      neither (the difference is within the seed spread), or fewer than 2 paired seeds
 */
import { signFlipTest } from "../../../ledger/stats.js"
import type { Series } from "../series.js"
import type { ReportJob } from "../types.js"
import { statisticOf, type Statistic } from "./statistic.js"

export const ALPHA = 0.05

export interface Side {
  /** the series label (the embedding's label in the suite) */
  readonly series: string
  readonly stat: Statistic
}

export interface ComparisonSpec {
  /** what is claimed, in words */
  readonly text: string
  readonly a: Side
  readonly b: Side
  /** the claim: a's statistic is lower (or higher) than b's */
  readonly expect: "lower" | "higher"
}

export type PartVerdict = "holds" | "contradicted" | "unclear"

export interface PairedValue {
  readonly seed: number
  readonly a: number
  readonly b: number
  readonly aRecord: string
  readonly bRecord: string
}

export interface ComparisonResult {
  readonly spec: ComparisonSpec
  readonly pairs: ReadonlyArray<PairedValue>
  /** seeds in which a differs from b in the claimed direction */
  readonly agreeing: number
  /** one-sided p in the claimed direction, and in the opposite one; null without pairs */
  readonly pClaim: number | null
  readonly pOpposite: number | null
  readonly verdict: PartVerdict
}

const doneJobsBySeed = (series: Series | undefined): Map<number, ReportJob> => {
  const out = new Map<number, ReportJob>()
  for (const j of series?.jobs ?? []) if (!out.has(j.cell.seed)) out.set(j.cell.seed, j)
  return out
}

export const compare = (spec: ComparisonSpec, series: ReadonlyArray<Series>): ComparisonResult => {
  const bySeedA = doneJobsBySeed(series.find((s) => s.label === spec.a.series))
  const bySeedB = doneJobsBySeed(series.find((s) => s.label === spec.b.series))
  const pairs: PairedValue[] = []
  for (const [seed, jobA] of [...bySeedA.entries()].sort((x, y) => x[0] - y[0])) {
    const jobB = bySeedB.get(seed)
    if (!jobB) continue
    const a = statisticOf(spec.a.stat, jobA)
    const b = statisticOf(spec.b.stat, jobB)
    if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) continue
    pairs.push({ seed, a, b, aRecord: jobA.recordHash, bRecord: jobB.recordHash })
  }
  const diffs = pairs.map((p) => p.a - p.b)
  const towards = spec.expect === "lower" ? "less" : "greater"
  const away = spec.expect === "lower" ? "greater" : "less"
  const agreeing = diffs.filter((d) => (spec.expect === "lower" ? d < 0 : d > 0)).length
  if (pairs.length < 2) return { spec, pairs, agreeing, pClaim: null, pOpposite: null, verdict: "unclear" }
  const pClaim = signFlipTest(diffs, towards).pValue
  const pOpposite = signFlipTest(diffs, away).pValue
  const verdict: PartVerdict = pClaim <= ALPHA ? "holds" : pOpposite <= ALPHA ? "contradicted" : "unclear"
  return { spec, pairs, agreeing, pClaim, pOpposite, verdict }
}
