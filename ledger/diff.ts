/**
 * `ledger diff A B`: what changed between two sides (runs, job keys, suites at commits, or two ledger
 * files), and why.
 *   - per cell, metric and evaluation length: A's and B's value (mean over seeds), the change, and for
 *     seed-replicated cells a paired-by-seed test (exact sign-flip for 5..16 pairs, paired t otherwise);
 *   - the configurations diffed field by field (seed excluded: seeds are replicates, reported separately);
 *   - each difference attributed to configuration, code, environment or seed (or "unexplained": nothing
 *     recorded differs, so the backend is not deterministic);
 *   - by default only what changed; `all: true` lists every compared metric.
 */
import { canonicalJson } from "./canonical.js"
import { compareMetricKeys, groupCells, metricKeyId, type Cell, type Side } from "./sides.js"
import { mean, pairedTTest, signFlipTest, type TestResult } from "./stats.js"
import { formatNumber, formatP, formatPercent, formatSigned, renderFixedWidth } from "./table.js"
import type { RunRow } from "./types.js"

export type Cause = "configuration" | "code" | "environment" | "seed" | "unexplained"

export interface FieldChange {
  readonly path: string
  readonly a: unknown
  readonly b: unknown
}

export interface DiffRow {
  readonly cell: string
  readonly metric: string
  readonly length: number | null
  readonly unit: string
  readonly better: "lower" | "higher" | "none"
  readonly a: number | null
  readonly b: number | null
  readonly change: number | null
  readonly relativeChange: number | null
  readonly pairs: number
  readonly test: TestResult | null
  readonly changed: boolean
  readonly attribution: ReadonlyArray<Cause>
}

export interface CellAttribution {
  readonly cell: string
  readonly configChanges: ReadonlyArray<FieldChange>
  readonly codeChanges: ReadonlyArray<FieldChange>
  readonly environmentChanges: ReadonlyArray<FieldChange>
  readonly seeds: { readonly onlyInA: ReadonlyArray<number>; readonly onlyInB: ReadonlyArray<number> }
  readonly causes: ReadonlyArray<Cause>
}

export interface DiffReport {
  readonly a: string
  readonly b: string
  readonly rows: ReadonlyArray<DiffRow>
  readonly cells: ReadonlyArray<CellAttribution>
  readonly onlyInA: ReadonlyArray<string>
  readonly onlyInB: ReadonlyArray<string>
  readonly compared: number
  readonly changed: number
}

/** Flattens JSON to dotted paths (arrays by index) for a field-by-field comparison. */
export const flatten = (value: unknown, prefix = "", out: Map<string, unknown> = new Map()): Map<string, unknown> => {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as object)
    if (entries.length === 0) out.set(prefix || "$", Array.isArray(value) ? [] : {})
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else if (value !== undefined) {
    out.set(prefix || "$", value)
  }
  return out
}

/** Field-by-field differences between two JSON values, sorted by path. */
export const diffFields = (a: unknown, b: unknown, ignore: ReadonlyArray<string> = []): FieldChange[] => {
  const fa = flatten(a)
  const fb = flatten(b)
  const paths = [...new Set([...fa.keys(), ...fb.keys()])].filter((p) => !ignore.includes(p)).sort()
  return paths
    .filter((p) => canonicalJson(fa.get(p) ?? null) !== canonicalJson(fb.get(p) ?? null) || fa.has(p) !== fb.has(p))
    .map((p) => ({ path: p, a: fa.get(p), b: fb.get(p) }))
}

const codeOf = (run: RunRow) => ({ gitCommit: run.gitCommit, gitDirtyHash: run.gitDirtyHash, codeVersion: run.codeVersion })

/** Differences between the sets of values each side shows for one field (one run per side is the usual case). */
const distinct = <T>(values: ReadonlyArray<T>): T[] => {
  const seen = new Map<string, T>()
  for (const v of values) seen.set(canonicalJson(v ?? null), v)
  return [...seen.values()]
}

const compareRuns = (a: ReadonlyArray<RunRow>, b: ReadonlyArray<RunRow>, pick: (r: RunRow) => unknown): FieldChange[] => {
  const va = distinct(a.map(pick))
  const vb = distinct(b.map(pick))
  if (va.length === 1 && vb.length === 1) return diffFields(va[0], vb[0])
  if (canonicalJson(va) === canonicalJson(vb)) return []
  return [{ path: "$", a: va, b: vb }]
}

const attributeCell = (name: string, a: Cell, b: Cell): CellAttribution => {
  const configOf = (c: Cell) => {
    const cfg = c.jobs[0].job.config
    return cfg !== null && typeof cfg === "object" && !Array.isArray(cfg) ? { ...(cfg as object), seed: undefined } : cfg
  }
  const configChanges = diffFields(configOf(a), configOf(b))
  const runsA = a.jobs.map((j) => j.run)
  const runsB = b.jobs.map((j) => j.run)
  const codeChanges = compareRuns(runsA, runsB, codeOf)
  const environmentChanges = compareRuns(runsA, runsB, (r) => r.environment)
  const seedsA = new Set(a.jobs.map((j) => j.job.seed))
  const seedsB = new Set(b.jobs.map((j) => j.job.seed))
  const seeds = {
    onlyInA: [...seedsA].filter((s) => !seedsB.has(s)).sort((x, y) => x - y),
    onlyInB: [...seedsB].filter((s) => !seedsA.has(s)).sort((x, y) => x - y)
  }
  const causes: Cause[] = []
  if (configChanges.length > 0) causes.push("configuration")
  if (codeChanges.length > 0) causes.push("code")
  if (environmentChanges.length > 0) causes.push("environment")
  if (seeds.onlyInA.length + seeds.onlyInB.length > 0) causes.push("seed")
  return { cell: name, configChanges, codeChanges, environmentChanges, seeds, causes }
}

/** The paired-by-seed test for a cell's metric, when there are at least 2 pairs. */
export const pairedBySeed = (
  diffs: ReadonlyArray<number>,
  alternative: "two-sided" | "greater" | "less" = "two-sided"
): TestResult | null => {
  if (diffs.length < 2) return null
  // exact permutation while enumerating is cheap and it can reach the usual levels (2^-n <= 0.05 needs n >= 5)
  if (diffs.length >= 5 && diffs.length <= 16) return signFlipTest(diffs, alternative)
  return pairedTTest(diffs, alternative)
}

export interface DiffOptions {
  /** list every compared metric, not only the changed ones */
  readonly all?: boolean
}

export const diffSides = (sideA: Side, sideB: Side, options: DiffOptions = {}): DiffReport => {
  const cellsA = groupCells(sideA)
  const cellsB = groupCells(sideB)
  const rows: DiffRow[] = []
  const cells: CellAttribution[] = []
  let compared = 0
  for (const [name, a] of cellsA) {
    const b = cellsB.get(name)
    if (!b) continue
    const attribution = attributeCell(name, a, b)
    cells.push(attribution)
    const keyOf = (id: string) => (a.metrics.get(id) ?? b.metrics.get(id))!.key
    const ids = [...new Set([...a.metrics.keys(), ...b.metrics.keys()])].sort((x, y) => compareMetricKeys(keyOf(x), keyOf(y)))
    for (const id of ids) {
      const sa = a.metrics.get(id)
      const sb = b.metrics.get(id)
      const series = (sa ?? sb)!
      compared++
      const meanOf = (s: typeof sa) => (s ? mean([...s.bySeed.values()].map(mean)) : null)
      const va = meanOf(sa)
      const vb = meanOf(sb)
      const pairedSeeds = sa && sb ? [...sa.bySeed.keys()].filter((s) => sb.bySeed.has(s)).sort((x, y) => x - y) : []
      const diffs = pairedSeeds.map((s) => mean(sb!.bySeed.get(s)!) - mean(sa!.bySeed.get(s)!))
      const changed =
        !sa ||
        !sb ||
        canonicalJson([...sa.bySeed].sort((x, y) => x[0] - y[0])) !== canonicalJson([...sb.bySeed].sort((x, y) => x[0] - y[0]))
      const change = va !== null && vb !== null ? vb - va : null
      rows.push({
        cell: name,
        metric: series.key.name,
        length: series.key.length,
        unit: series.unit,
        better: series.better,
        a: va,
        b: vb,
        change,
        relativeChange: change !== null && va !== null && va !== 0 ? change / Math.abs(va) : null,
        pairs: pairedSeeds.length,
        test: pairedBySeed(diffs),
        changed,
        attribution: changed ? (attribution.causes.length > 0 ? attribution.causes : ["unexplained"]) : []
      })
    }
  }
  const shown = options.all ? rows : rows.filter((r) => r.changed)
  return {
    a: sideA.label,
    b: sideB.label,
    rows: shown,
    cells: options.all ? cells : cells.filter((c) => c.causes.length > 0 || rows.some((r) => r.cell === c.cell && r.changed)),
    onlyInA: [...cellsA.keys()].filter((c) => !cellsB.has(c)).sort(),
    onlyInB: [...cellsB.keys()].filter((c) => !cellsA.has(c)).sort(),
    compared,
    changed: rows.filter((r) => r.changed).length
  }
}

const showValue = (v: unknown): string => {
  const s = v === undefined ? "(absent)" : typeof v === "string" ? v : canonicalJson(v)
  return s.length > 48 ? s.slice(0, 45) + "..." : s
}

/** Readable text: a metric table, then per cell what differs and the attribution. */
export const renderDiff = (report: DiffReport): string => {
  const lines: string[] = [`diff A = ${report.a}   B = ${report.b}`]
  lines.push(
    `${report.changed} of ${report.compared} compared metrics changed${report.rows.length < report.compared ? " (showing changed only; --all for every metric)" : ""}`
  )
  if (report.rows.length > 0) {
    lines.push(
      "",
      renderFixedWidth(
        ["cell", "metric", "length", "A", "B", "change", "rel", "pairs", "p (paired)", "attributed to"],
        report.rows.map((r) => [
          r.cell,
          r.metric,
          r.length === null ? "-" : String(r.length),
          formatNumber(r.a),
          formatNumber(r.b),
          formatSigned(r.change),
          formatPercent(r.relativeChange),
          String(r.pairs),
          r.test ? `${formatP(r.test.pValue)} ${r.test.test}` : "-",
          r.attribution.join(", ") || "-"
        ]),
        [0, 1, 9]
      )
    )
  }
  for (const c of report.cells) {
    const parts: string[] = []
    for (const f of c.configChanges) parts.push(`  configuration  ${f.path}: ${showValue(f.a)} -> ${showValue(f.b)}`)
    for (const f of c.codeChanges) parts.push(`  code           ${f.path}: ${showValue(f.a)} -> ${showValue(f.b)}`)
    for (const f of c.environmentChanges) parts.push(`  environment    ${f.path}: ${showValue(f.a)} -> ${showValue(f.b)}`)
    if (c.seeds.onlyInA.length + c.seeds.onlyInB.length > 0) {
      parts.push(`  seed           only in A: [${c.seeds.onlyInA.join(", ")}]  only in B: [${c.seeds.onlyInB.join(", ")}]`)
    }
    if (parts.length > 0) lines.push("", `${c.cell}:`, ...parts)
  }
  if (report.onlyInA.length > 0) lines.push("", `cells only in A: ${report.onlyInA.join(", ")}`)
  if (report.onlyInB.length > 0) lines.push("", `cells only in B: ${report.onlyInB.join(", ")}`)
  return lines.join("\n")
}

export { metricKeyId }
