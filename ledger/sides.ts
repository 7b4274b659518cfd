/**
 * One side of a comparison (diff A B, check --baseline): a set of done jobs with their runs and metrics,
 * grouped into cells (a cell = a job name without its seed) whose seeds are replicates.
 *
 * A side is named by a reference (`resolveRef`):
 *   run:<id> | <run id or unique prefix>      the done jobs of one run
 *   key:<key> | <job key or unique prefix>     the latest done job with that key
 *   suite:<name>[@<commit prefix>] | <name>@<commit prefix>   the latest done job of every key of a suite,
 *                                               optionally only from runs at that git commit
 *   latest                                      the most recent run
 *   all                                         every done job in the ledger (latest per key)
 */
import { ledgerError } from "./errors.js"
import type { LedgerStore } from "./store.js"
import type { JobRow, MetricRecord, RunRow } from "./types.js"

export interface SideJob {
  readonly job: JobRow
  readonly run: RunRow
  readonly metrics: ReadonlyArray<MetricRecord>
}

export interface Side {
  /** what the side was made from, for tables: "run 3f2a…", "ledger shard-1.sqlite", ... */
  readonly label: string
  readonly jobs: ReadonlyArray<SideJob>
}

export type SideRef =
  | { readonly kind: "run"; readonly runId: string }
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "suite"; readonly suite: string; readonly commit?: string }
  | { readonly kind: "latest" }
  | { readonly kind: "all" }

/** The cell a job belongs to: its name without a trailing `/seed<N>` (the harness's naming), else its name. */
export const cellOf = (job: Pick<JobRow, "name" | "seed">): string => {
  const suffix = `/seed${job.seed}`
  return job.name.endsWith(suffix) ? job.name.slice(0, -suffix.length) : job.name
}

const latestPerKey = (jobs: ReadonlyArray<JobRow>): JobRow[] => {
  const byKey = new Map<string, JobRow>()
  for (const j of jobs) byKey.set(j.key, j) // jobs() is in start order: the last one wins
  return [...byKey.values()]
}

/** Parses a reference against a ledger (unique prefixes of run ids and job keys are accepted). */
export const resolveRef = (store: LedgerStore, text: string): SideRef => {
  const t = text.trim()
  if (t === "latest") return { kind: "latest" }
  if (t === "all") return { kind: "all" }
  if (t.startsWith("run:")) return { kind: "run", runId: t.slice(4) }
  if (t.startsWith("key:")) return { kind: "key", key: t.slice(4) }
  if (t.startsWith("suite:")) {
    const [suite, commit] = t.slice(6).split("@")
    return commit ? { kind: "suite", suite, commit } : { kind: "suite", suite }
  }
  const runs = store.runs().filter((r) => r.id.startsWith(t))
  const keys = new Set(
    store
      .jobs({ status: "done" })
      .filter((j) => j.key.startsWith(t))
      .map((j) => j.key)
  )
  if (runs.length === 1 && keys.size === 0) return { kind: "run", runId: runs[0].id }
  if (keys.size === 1 && runs.length === 0) return { kind: "key", key: [...keys][0] }
  if (t.includes("@")) {
    const [suite, commit] = t.split("@")
    return { kind: "suite", suite, commit }
  }
  if (store.runs().some((r) => r.suite === t)) return { kind: "suite", suite: t }
  const why =
    runs.length + keys.size > 1
      ? `is ambiguous (${runs.length} runs and ${keys.size} job keys start with it)`
      : "matches no run id, job key or suite"
  throw ledgerError(
    "invalid",
    store.file,
    `reference "${text}" ${why} in ${store.file}: use a longer prefix, run:<id>, key:<job key>, suite:<name>[@<commit>], latest or all`
  )
}

/** Loads the done jobs a reference names, with their runs and metrics. */
export const loadSide = (store: LedgerStore, ref: SideRef, label?: string): Side => {
  let jobs: JobRow[]
  let name: string
  switch (ref.kind) {
    case "run": {
      const run = store.run(ref.runId)
      if (!run) throw ledgerError("invalid", store.file, `run ${ref.runId} is not in ${store.file}; list runs with harness ledger runs`)
      jobs = latestPerKey(store.jobs({ runId: ref.runId, status: "done" }))
      name = `run ${ref.runId.slice(0, 8)}`
      break
    }
    case "key": {
      const job = store.findDoneJob(ref.key)
      if (!job) throw ledgerError("invalid", store.file, `no done job with key ${ref.key} in ${store.file}`)
      jobs = [job]
      name = `job ${ref.key.slice(0, 12)}`
      break
    }
    case "suite": {
      const runIds = new Set(
        store
          .runs()
          .filter((r) => r.suite === ref.suite && (ref.commit === undefined || (r.gitCommit ?? "").startsWith(ref.commit)))
          .map((r) => r.id)
      )
      jobs = latestPerKey(store.jobs({ status: "done" }).filter((j) => runIds.has(j.runId)))
      name = ref.commit ? `${ref.suite}@${ref.commit}` : `suite ${ref.suite}`
      if (jobs.length === 0) throw ledgerError("invalid", store.file, `no done jobs of suite ${name} in ${store.file}`)
      break
    }
    case "latest": {
      const run = store.latestRun()
      if (!run) throw ledgerError("invalid", store.file, `${store.file} holds no runs yet`)
      return loadSide(store, { kind: "run", runId: run.id }, label)
    }
    case "all":
      jobs = latestPerKey(store.jobs({ status: "done" }))
      name = `ledger ${store.file}`
      break
  }
  const runs = new Map(store.runs().map((r) => [r.id, r] as const))
  return {
    label: label ?? name,
    jobs: jobs.map((job) => ({ job, run: runs.get(job.runId)!, metrics: store.metrics(job.id) }))
  }
}

// ---------------------------------------------------------------- grouping shared by diff and check

/**
 * Units of measurements that vary from run to run even on a bitwise-deterministic backend: timings and rates, and
 * memory (peak RSS). They are judged on their repeats with a two-sample test, never "deterministic", and never
 * compared by `reproduce`.
 */
export const isMeasurementUnit = (unit: string): boolean =>
  /^(ns|us|µs|ms|s|sec|seconds|minutes|h|hz|.+\/s|.+\/sec|.+ per second|b|bytes|kb|kib|mb|mib|gb|gib)$/i.test(unit.trim())

export interface MetricKey {
  readonly name: string
  readonly length: number | null
}

export const metricKeyId = (k: MetricKey): string => (k.length === null ? k.name : `${k.name}@${k.length}`)

/** Table order: by metric name, then by length (numerically; length-less first). */
export const compareMetricKeys = (a: MetricKey, b: MetricKey): number =>
  a.name === b.name ? (a.length ?? -1) - (b.length ?? -1) : a.name < b.name ? -1 : 1

export interface MetricSeries {
  readonly key: MetricKey
  readonly unit: string
  readonly better: "lower" | "higher" | "none"
  /** per seed: the values (repeats) at the final step */
  readonly bySeed: ReadonlyMap<number, ReadonlyArray<number>>
  /** every job of this cell certified deterministic (reproducibility "bitwise") */
  readonly bitwise: boolean
}

export interface Cell {
  readonly name: string
  readonly jobs: ReadonlyArray<SideJob>
  readonly metrics: ReadonlyMap<string, MetricSeries>
}

/**
 * Final values of a job: for each (name, length) the values at the last step (a metric recorded without a
 * step is a final evaluation and wins over stepped ones). Several values at the same point are repeats.
 */
const finalValues = (
  metrics: ReadonlyArray<MetricRecord>
): Map<string, { key: MetricKey; unit: string; better: MetricRecord["better"]; values: number[] }> => {
  const best = new Map<string, { key: MetricKey; unit: string; better: MetricRecord["better"]; step: number; values: number[] }>()
  for (const m of metrics) {
    const key = { name: m.name, length: m.length ?? null }
    const id = metricKeyId(key)
    const step = m.step === null || m.step === undefined ? Infinity : m.step
    const cur = best.get(id)
    if (!cur || step > cur.step) best.set(id, { key, unit: m.unit, better: m.better, step, values: [m.value] })
    else if (step === cur.step) cur.values.push(m.value)
  }
  return new Map([...best].map(([id, v]) => [id, { key: v.key, unit: v.unit, better: v.better, values: v.values }]))
}

export const groupCells = (side: Side): Map<string, Cell> => {
  const byCell = new Map<string, SideJob[]>()
  for (const j of side.jobs) {
    const name = cellOf(j.job)
    byCell.set(name, [...(byCell.get(name) ?? []), j])
  }
  const cells = new Map<string, Cell>()
  for (const [name, jobs] of byCell) {
    const bitwise = jobs.every((j) => j.job.reproducibility?.mode === "bitwise")
    const metrics = new Map<string, { key: MetricKey; unit: string; better: MetricRecord["better"]; bySeed: Map<number, number[]> }>()
    for (const j of jobs) {
      for (const [id, v] of finalValues(j.metrics)) {
        const series = metrics.get(id) ?? { key: v.key, unit: v.unit, better: v.better, bySeed: new Map<number, number[]>() }
        series.bySeed.set(j.job.seed, [...(series.bySeed.get(j.job.seed) ?? []), ...v.values])
        metrics.set(id, series)
      }
    }
    cells.set(name, {
      name,
      jobs,
      metrics: new Map([...metrics].map(([id, s]) => [id, { ...s, bitwise }]))
    })
  }
  return cells
}
