/**
 * The ledger's own benchmark: chain records written per second through the real API (each job = a
 * job.start record and a job.done record carrying its metric batch, each its own IMMEDIATE transaction,
 * WAL, synchronous=NORMAL), and the time `verify` takes over them. Each is reported with a baseline measured in
 * the same run on the same file system: plain SQLite inserts of the same rows in the same transactions (no chain,
 * no canonical JSON, no projection), and a plain read of every record. The ratios say what tamper evidence costs.
 * Returns MetricRecords so the harness can record it in a ledger like any other timing.
 */
import Database from "better-sqlite3"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { LedgerTampered } from "./errors.js"
import { LedgerStore } from "./store.js"
import type { MetricRecord } from "./types.js"

export interface LedgerBenchmarkOptions {
  /** chain records to write (default 100 000) */
  readonly records?: number
  /** metrics in each job's completion record (default 8: 4 lengths x 2 metrics) */
  readonly metricsPerJob?: number
  /** where to write; default a temporary directory, removed afterwards */
  readonly path?: string
}

export const runLedgerBenchmark = (options: LedgerBenchmarkOptions = {}): MetricRecord[] => {
  const records = Math.max(4, options.records ?? 100_000)
  const metricsPerJob = options.metricsPerJob ?? 8
  const dir = options.path === undefined ? mkdtempSync(join(tmpdir(), "ledger-bench-")) : undefined
  const file = options.path ?? join(dir!, "bench.sqlite")
  const store = LedgerStore.open(file)
  try {
    const jobs = Math.floor((records - 2) / 2)
    const lengths = [128, 256, 512, 1024]
    const t0 = performance.now()
    const run = store.beginRun({ suite: "ledger-bench", git: { commit: null, dirtyHash: null }, environment: { bench: true } })
    for (let i = 0; i < jobs; i++) {
      const job = store.startJob({ runId: run.id, key: `bench-${i}`, name: `ledger-bench/job/seed${i}`, config: { i }, seed: i })
      const metrics: MetricRecord[] = []
      for (let m = 0; m < metricsPerJob; m++) {
        metrics.push({
          name: m % 2 ? "perplexity" : "loss",
          value: 1 + ((i * 7919 + m * 104729) % 1000) / 1000,
          unit: m % 2 ? "ppl" : "nats",
          better: "lower",
          length: lengths[m % lengths.length]
        })
      }
      store.completeJob(job.id, { metrics, timings: { train: 1 }, reproducibility: { mode: "bitwise" } })
    }
    store.finishRun(run.id)
    const writeSeconds = (performance.now() - t0) / 1000
    const written = store.recordCount()
    const t1 = performance.now()
    const report = store.verify()
    const verifySeconds = (performance.now() - t1) / 1000
    if (!report.ok) throw new LedgerTampered({ file, message: `benchmark ledger failed verification: ${report.firstBad?.reason}` })
    const baseline = plainSqliteBaseline(`${file}.plain`, jobs, metricsPerJob, lengths)
    return [
      { name: "ledger.baseline.plain_sqlite_records_per_second", value: baseline.recordsPerSecond, unit: "records/s", better: "none" },
      {
        name: "ledger.write.ratio_vs_plain_sqlite",
        value: written / writeSeconds / baseline.recordsPerSecond,
        unit: "ratio",
        better: "higher"
      },
      { name: "ledger.baseline.plain_read_and_hash_seconds", value: baseline.readSeconds, unit: "s", better: "none" },
      { name: "ledger.verify.ratio_vs_plain_read", value: verifySeconds / baseline.readSeconds, unit: "ratio", better: "lower" },
      { name: "ledger.write.records_per_second", value: written / writeSeconds, unit: "records/s", better: "higher" },
      { name: "ledger.write.metrics_per_second", value: (jobs * metricsPerJob) / writeSeconds, unit: "metrics/s", better: "higher" },
      // for `written` records (100 000 by default)
      { name: "ledger.verify.seconds", value: verifySeconds, unit: "s", better: "lower" },
      { name: "ledger.verify.records_per_second", value: written / verifySeconds, unit: "records/s", better: "higher" }
    ]
  } finally {
    store.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The baseline: the same job rows written with plain INSERTs, one IMMEDIATE transaction per record as the ledger
 * does (WAL, synchronous=NORMAL), then every row read back and hashed once.
 */
const plainSqliteBaseline = (file: string, jobs: number, metricsPerJob: number, lengths: ReadonlyArray<number>) => {
  const db = new Database(file)
  try {
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.exec(
      "CREATE TABLE jobs (id INTEGER PRIMARY KEY, key TEXT, name TEXT, config TEXT, status TEXT); CREATE TABLE metrics (job INTEGER, name TEXT, value REAL, unit TEXT, length INTEGER)"
    )
    const insertJob = db.prepare("INSERT INTO jobs (id, key, name, config, status) VALUES (?, ?, ?, ?, 'running')")
    const finishJob = db.prepare("UPDATE jobs SET status = 'done' WHERE id = ?")
    const insertMetric = db.prepare("INSERT INTO metrics (job, name, value, unit, length) VALUES (?, ?, ?, ?, ?)")
    const start = db.transaction((i: number) =>
      insertJob.run(i, `bench-${i}`, `ledger-bench/job/seed${i}`, JSON.stringify({ i }))
    ).immediate
    const done = db.transaction((i: number) => {
      for (let m = 0; m < metricsPerJob; m++)
        insertMetric.run(
          i,
          m % 2 ? "perplexity" : "loss",
          1 + ((i * 7919 + m * 104729) % 1000) / 1000,
          m % 2 ? "ppl" : "nats",
          lengths[m % lengths.length]
        )
      finishJob.run(i)
    }).immediate
    const t0 = performance.now()
    for (let i = 0; i < jobs; i++) {
      start(i)
      done(i)
    }
    const writeSeconds = (performance.now() - t0) / 1000
    const t1 = performance.now()
    const hash = createHash("sha256")
    for (const row of db.prepare("SELECT * FROM jobs").iterate()) hash.update(JSON.stringify(row))
    for (const row of db.prepare("SELECT * FROM metrics").iterate()) hash.update(JSON.stringify(row))
    hash.digest()
    return { recordsPerSecond: (2 * jobs) / writeSeconds, readSeconds: (performance.now() - t1) / 1000 }
  } finally {
    db.close()
    rmSync(file, { force: true })
    rmSync(`${file}-wal`, { force: true })
    rmSync(`${file}-shm`, { force: true })
  }
}
