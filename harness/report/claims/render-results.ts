/**
 * RESULTS.md: a verdict for each declared claim (claims.ts), with the tables that show it, the paired
 * comparisons that decide it (seed spread beside every number), and the ledger record hash of every job
 * whose numbers it uses. Pure: the same ledger contents give the same bytes (no clock: the ledger's head hash
 * identifies what was read).
 */
import { floorClip, ropeFrequencies } from "../../../embeddings/rotary-frequencies.js"
import { resolveScale } from "../../../models/scales.js"
import { escapeMarkdownText, markdownCode } from "../escape.js"
import { formatSignificant, formatSummary } from "../format-number.js"
import { markdownTable } from "../markdown-table.js"
import { groupSeries, type Series } from "../series.js"
import { summarize } from "../stats.js"
import type { ReportInput } from "../types.js"
import { lengthsOf, lengthTableCells } from "../sections/length-table.js"
import { CLAIMS, type Claim } from "./claims.js"
import { ALPHA, compare, type ComparisonResult } from "./compare.js"
import { describeStatistic, statisticOf } from "./statistic.js"

export type ClaimVerdict = "reproduced" | "not reproduced" | "partly reproduced" | "inconclusive"

export interface ClaimOutcome {
  readonly claim: Claim
  readonly verdict: ClaimVerdict
  readonly reasons: ReadonlyArray<string>
  readonly comparisons: ReadonlyArray<ComparisonResult>
}

export interface ResultsInput {
  /** one report input per suite the claims name (missing suites: no jobs) */
  readonly suites: ReadonlyArray<ReportInput>
  readonly ledgerHeadHash: string
  readonly recordCount: number
  /** the git commits and code versions the suites' runs recorded */
  readonly provenance: ReadonlyArray<{ suite: string; gitCommit: string | null; codeVersion: string | null; engine: string }>
  /** where the per-suite reports (plots) were written, relative to RESULTS.md */
  readonly plotFolder: (suite: string) => string
  /** jobs each suite plans (embeddings x scales x seeds), when its file is known */
  readonly planned?: Readonly<Record<string, number>>
  /** per suite: the product over the training steps of (1 - lr x weight decay): what decay leaves of a parameter no gradient holds up */
  readonly decayFactor?: Readonly<Record<string, number>>
}

const seriesOfSuite = (input: ResultsInput, suite: string): { series: ReadonlyArray<Series>; report: ReportInput | undefined } => {
  const report = input.suites.find((s) => s.suite === suite)
  return { series: report ? groupSeries(report.jobs) : [], report }
}

export const judgeClaim = (claim: Claim, series: ReadonlyArray<Series>): ClaimOutcome => {
  const reasons: string[] = []
  let preconditionFailed = false
  for (const pre of claim.preconditions) {
    const s = series.find((x) => x.label === pre.side.series)
    const values = (s?.jobs ?? []).map((j) => statisticOf(pre.side.stat, j)).filter((v): v is number => v !== null)
    const summary = summarize(values)
    if (!summary || summary.mean < pre.atLeast) {
      preconditionFailed = true
      reasons.push(`precondition not met: ${pre.text}; measured ${summary ? `${formatSummary(summary)}` : "nothing"}`)
    }
  }
  const comparisons = claim.comparisons.map((c) => compare(c, series))
  const holds = comparisons.filter((c) => c.verdict === "holds").length
  const contradicted = comparisons.filter((c) => c.verdict === "contradicted").length
  let verdict: ClaimVerdict
  if (preconditionFailed) verdict = "inconclusive"
  else if (holds === comparisons.length) verdict = "reproduced"
  else if (contradicted === comparisons.length) verdict = "not reproduced"
  else if (holds > 0 && contradicted > 0) verdict = "partly reproduced"
  else verdict = "inconclusive"
  // descriptive, not part of the verdict: a mean over 2x-16x can hide a reversal between short and long lengths
  for (const c of comparisons) {
    if (c.spec.a.stat.kind !== "beyond" || c.spec.b.stat.kind !== "beyond") continue
    const metric = c.spec.a.stat.metric
    const jobs = series.find((x) => x.label === c.spec.a.series)?.jobs ?? []
    const multiples = jobs.flatMap((j) =>
      j.metrics.filter((m) => m.name === metric && typeof m.length === "number").map((m) => (m.length as number) / j.trainLength)
    )
    if (multiples.length === 0) continue
    const longest = Math.max(...multiples)
    const at = (side: typeof c.spec.a) => ({
      ...side,
      stat: { kind: "at" as const, metric, multiple: longest, log: c.spec.a.stat.kind === "beyond" && c.spec.a.stat.log }
    })
    const r = compare({ ...c.spec, a: at(c.spec.a), b: at(c.spec.b) }, series)
    if (r.pairs.length > 0)
      reasons.push(
        `descriptive, not part of the verdict: at the longest length alone (${longest}x L), "${c.spec.text}" ${r.verdict} (${r.agreeing}/${r.pairs.length} seeds agreeing, one-sided p ${pText(r.pClaim)})`
      )
  }
  for (const c of comparisons) {
    if (c.pairs.length < 5)
      reasons.push(
        `"${c.spec.text}": ${c.pairs.length} paired seed(s), fewer than the 5 a one-sided exact test needs to reach p ≤ ${ALPHA}`
      )
  }
  return { claim, verdict, reasons, comparisons }
}

const pText = (p: number | null): string => (p === null ? "-" : formatSignificant(p, 2))

const comparisonRows = (results: ReadonlyArray<ComparisonResult>): string[][] =>
  results.map((r) => {
    const a = summarize(r.pairs.map((p) => p.a))
    const b = summarize(r.pairs.map((p) => p.b))
    const d = summarize(r.pairs.map((p) => p.a - p.b))
    const diff = d ? `${formatSignificant(d.mean)} [${formatSignificant(d.min)} .. ${formatSignificant(d.max)}]` : "-"
    return [
      r.spec.text,
      `${r.spec.a.series}: ${describeStatistic(r.spec.a.stat)}`,
      formatSummary(a),
      `${r.spec.b.series}: ${describeStatistic(r.spec.b.stat)}`,
      formatSummary(b),
      diff,
      `${r.agreeing}/${r.pairs.length}`,
      pText(r.pClaim),
      r.verdict
    ]
  })

const COMPARISON_HEADER = [
  "comparison",
  "A",
  "A over seeds",
  "B",
  "B over seeds",
  "A - B per seed: mean [min .. max]",
  "seeds agreeing",
  "one-sided p",
  "verdict"
]

const claimTables = (claim: Claim, series: ReadonlyArray<Series>, trainLength: number | null): string[] => {
  const out: string[] = []
  for (const t of claim.tables) {
    const accept = (m: { name: string }) => m.name === t.metric
    const picked = t.series.map((label) => series.find((s) => s.label === label)).filter((s): s is Series => s !== undefined)
    const lengths = lengthsOf(picked, accept)
    if (picked.length === 0 || lengths.length === 0) {
      out.push(`*${t.caption}: no finished job recorded \`${t.metric}\` yet.*`)
      continue
    }
    const cells = lengthTableCells(
      picked.map((s) => ({ label: s.label, series: s, accept })),
      lengths,
      trainLength
    )
    out.push(`${t.caption} (\`${t.metric}\`, mean ± sd over seeds):`, "", markdownTable(cells.header, cells.rows))
  }
  return out
}

const spectrumTable = (series: ReadonlyArray<Series>): string => {
  const rows = series
    .map((s) => {
      const values = s.jobs.map((j) => statisticOf({ kind: "scalar", metric: "spectrum_damage" }, j)).filter((v): v is number => v !== null)
      return values.length ? [s.label, formatSummary(summarize(values))] : null
    })
    .filter((r): r is string[] => r !== null)
  return rows.length
    ? markdownTable(["embedding", "spectrum damage (mean ± sd over seeds; lower is less damage)"], rows)
    : "*No spectrum damage recorded yet.*"
}

/** How many rotary frequencies FoPE's floor clip keeps at this head dimension and training length (embeddings/fope.ts's own clip). */
export const floorClipKept = (
  headDim: number,
  trainLength: number,
  base = 10000
): { kept: number; total: number; longestKeptPeriod: number } => {
  const grid = ropeFrequencies(headDim, base)
  const { kept } = floorClip(grid, trainLength)
  return { kept: kept.length, total: grid.length, longestKeptPeriod: kept.length ? (2 * Math.PI) / Math.min(...kept) : 0 }
}

const trainLengthOf = (report: ReportInput | undefined): number | null => {
  const lengths = [...new Set((report?.jobs ?? []).map((j) => j.trainLength))]
  return lengths.length === 1 ? lengths[0]! : null
}

export const renderResults = (input: ResultsInput): { markdown: string; outcomes: ReadonlyArray<ClaimOutcome> } => {
  const outcomes: ClaimOutcome[] = []
  const parts: string[] = [
    "# Results: the FoPE paper's claims at CPU scale",
    "",
    "Generated by `harness results` from the ledger exported in `results/` (import it with `harness ledger import results/claims.jsonl`, " +
      "check it with `harness ledger verify`, and regenerate this file with `harness results --ledger <that ledger>`). " +
      `Ledger head ${markdownCode(input.ledgerHeadHash)} (${input.recordCount} records). Every number below comes from a job whose ` +
      "record hash is listed under *Records*.",
    "",
    "**How a verdict is reached.** Each claim is decided by paired comparisons: the two embeddings trained with the same seed " +
      "(same data order, same evaluation windows) are compared per seed, and an exact one-sided sign-flip test over the seeds " +
      `gives p. A comparison *holds* at p ≤ ${ALPHA} in the claimed direction, is *contradicted* at p ≤ ${ALPHA} in the opposite ` +
      "direction, and is *unclear* otherwise (the difference is within the seed spread). A claim is *reproduced* when all its " +
      "comparisons hold, *not reproduced* when all are contradicted, *partly reproduced* when some hold and some are contradicted, " +
      "and *inconclusive* otherwise or when a precondition (the task learned at the training length) fails. With 5 seeds the " +
      "smallest one-sided p is 1/32: a comparison holds only when (nearly) every seed agrees. Perplexity beyond L is the " +
      "geometric mean over the evaluation lengths 2x-16x.",
    ""
  ]
  const summaryRows: string[][] = []
  for (const claim of CLAIMS) {
    const { series } = seriesOfSuite(input, claim.suite)
    const outcome = judgeClaim(claim, series)
    outcomes.push(outcome)
    summaryRows.push([String(claim.id), claim.title, claim.suite, outcome.verdict])
  }
  parts.push("## Verdicts", "", markdownTable(["claim", "what", "suite", "verdict"], summaryRows, ["right", "left", "left", "left"]), "")
  for (const outcome of outcomes) {
    const claim = outcome.claim
    const { series, report } = seriesOfSuite(input, claim.suite)
    const trainLength = trainLengthOf(report)
    parts.push(`## ${claim.id}. ${claim.title}: ${outcome.verdict}`, "", `*Claim.* ${escapeMarkdownText(claim.statement)}`, "")
    const finished = series.reduce((n, s) => n + s.jobs.length, 0)
    const planned = input.planned?.[claim.suite]
    parts.push(
      `Suite ${markdownCode(claim.suite)}: ${finished}${planned !== undefined ? ` of its ${planned} planned` : ""} job(s) finished` +
        (planned !== undefined && finished < planned
          ? ` (the rest were not run: \`harness run ${claim.suite}\` resumes, skipping what is done).`
          : "."),
      ""
    )
    for (const line of claimTables(claim, series, trainLength)) parts.push(line)
    if (claim.id === 5) parts.push(spectrumTable(series))
    parts.push(
      "",
      markdownTable(COMPARISON_HEADER, comparisonRows(outcome.comparisons), [
        "left",
        "left",
        "right",
        "left",
        "right",
        "right",
        "right",
        "right",
        "left"
      ]),
      ""
    )
    if (outcome.reasons.length) parts.push(...outcome.reasons.map((r) => `- ${escapeMarkdownText(r)}`), "")
  }
  parts.push(...contextSection(input))
  parts.push(...recordsSection(input))
  return { markdown: parts.join("\n") + "\n", outcomes }
}

const contextSection = (input: ResultsInput): string[] => {
  const out: string[] = ["## What the data says about why", ""]
  const ppl = input.suites.find((s) => s.suite === "claims-perplexity")
  const pk = input.suites.find((s) => s.suite === "claims-passkey")
  for (const report of [ppl, pk]) {
    if (!report || report.jobs.length === 0) continue
    const L = trainLengthOf(report)
    const scale = report.jobs[0]!.cell.scale
    let headDim: number | null = null
    try {
      const s = resolveScale(scale)
      headDim = s.dModel / s.heads
    } catch {
      headDim = null
    }
    if (L !== null && headDim !== null) {
      const k = floorClipKept(headDim, L)
      out.push(
        `- ${markdownCode(report.suite)}: scale ${markdownCode(scale)} has head dimension ${headDim}, so ${k.total} rotary frequencies; trained at L = ${L}, ` +
          `FoPE's floor clip keeps ${k.kept} of them (periods up to ${formatSignificant(k.longestKeptPeriod, 3)} tokens) and sets the other ${k.total - k.kept} to zero frequency.`
      )
    }
  }
  if (pk) {
    const series = groupSeries(pk.jobs)
    const rows = series.map((s) => {
      const at1x = s.jobs
        .map((j) => statisticOf({ kind: "at", metric: "passkey_accuracy", multiple: 1, log: false }, j))
        .filter((v): v is number => v !== null)
      return `${s.label} ${formatSummary(summarize(at1x))}`
    })
    if (rows.length) out.push(`- Passkey accuracy at the training length (how much of the task each model learned): ${rows.join("; ")}.`)
  }
  out.push("")
  const decay = input.decayFactor?.["claims-perplexity"]
  out.push(
    "**Where this recipe differs from the FoPE code's configurations.** Scale: byte-level models of 0.2M parameters (nano: d 64, " +
      "4 heads, 3 layers) trained for 600 steps on State of the Union addresses, against OLMo-style models of 60M-1.2B parameters " +
      "trained on C4 with the GPT-2 vocabulary at 512 tokens. Weight decay: this harness decays the decoder's weight matrices (token " +
      "embedding and output projection included) but not the RMSNorm gains or position-embedding parameters; the FoPE code decays " +
      "every parameter. " +
      (decay !== undefined
        ? `Over this schedule decay alone multiplies a parameter by ${formatSignificant(decay, 3)} (the product of 1 - lr x weight decay over the steps), ` +
          `so decaying the norm gains too would pull them toward zero by at most ${formatSignificant(100 * (1 - decay), 2)}% (less where their gradient resists); `
        : "") +
      "among the embeddings compared only T5's bias table has parameters the FoPE code would decay and this harness does not. " +
      "Whether this moves a verdict was not measured. FoPE's sigma is its default 0.3; the paper's 60M config uses 0.3 too. " +
      "Head dimension: 16 here against 64-128 in the paper, so the floor clip keeps far fewer frequencies (above), which is the most " +
      "likely reason a verdict differs from the paper's."
  )
  out.push("")
  const prov = input.provenance.map(
    (p) =>
      `- ${markdownCode(p.suite)}: commit ${markdownCode(p.gitCommit ?? "unknown")}, code version ${markdownCode((p.codeVersion ?? "unknown").slice(0, 16))}, engine ${p.engine}`
  )
  if (prov.length) out.push("**Provenance.**", "", ...prov, "")
  return out
}

const recordsSection = (input: ResultsInput): string[] => {
  const rows: string[][] = []
  for (const report of input.suites)
    for (const j of [...report.jobs].sort((a, b) => a.name.localeCompare(b.name)))
      rows.push([j.name, j.status, j.recordHash ? markdownCode(j.recordHash) : "-"])
  const plots = input.suites
    .filter((s) => s.jobs.length > 0)
    .map((s) => `- ${markdownCode(s.suite)}: [report and plots](${input.plotFolder(s.suite)}/README.md)`)
  return [
    "## Plots",
    "",
    ...(plots.length ? plots : ["No suite has finished jobs yet."]),
    "",
    "## Records",
    "",
    "Each job's `job.done` record hash in the ledger (`harness ledger verify` recomputes the chain).",
    "",
    markdownTable(["job", "status", "record hash"], rows, ["left", "left", "left"]),
    ""
  ]
}
