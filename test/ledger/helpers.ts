/** Shared helpers for the ledger tests: temporary ledgers and synthetic jobs. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import type { MetricRecord, Reproducibility, RunInfo } from "../../ledger/types.js"

const dirs: string[] = []
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true })
})

/** A fresh directory removed after the test. */
export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-test-"))
  dirs.push(dir)
  return dir
}

export const tempLedgerPath = (name = "ledger.sqlite"): string => join(tempDir(), name)

export const runInfo = (overrides: Partial<RunInfo> = {}): RunInfo => ({
  suite: "synthetic",
  git: { commit: "c0ffee", dirtyHash: null },
  environment: { node: "v20.20.2", backend: "cpu", threads: 1 },
  ...overrides
})

export interface SyntheticJob {
  readonly cell: string
  readonly seed: number
  readonly metrics: ReadonlyArray<MetricRecord>
  readonly config?: unknown
  readonly reproducibility?: Reproducibility
}

/** Writes one run holding the given jobs (all done); returns the run id. */
export const writeRun = (store: LedgerStore, jobs: ReadonlyArray<SyntheticJob>, info: Partial<RunInfo> = {}): string => {
  const run = store.beginRun(runInfo(info))
  for (const j of jobs) {
    const config = j.config ?? { cell: j.cell, lr: 0.001 }
    const job = store.startJob({
      runId: run.id,
      key: `${j.cell}|${j.seed}|${JSON.stringify(config)}|${run.id}`,
      name: `${j.cell}/seed${j.seed}`,
      config: { ...(config as object), seed: j.seed },
      seed: j.seed
    })
    store.completeJob(job.id, { metrics: j.metrics, reproducibility: j.reproducibility ?? { mode: "tolerance", tolerance: 1e-3 } })
  }
  store.finishRun(run.id)
  return run.id
}

/** A loss metric at each length; `offset(length)` shifts it. */
export const lossAt = (lengths: ReadonlyArray<number>, base: (length: number) => number): MetricRecord[] =>
  lengths.map((length) => ({ name: "loss", value: base(length), unit: "nats", better: "lower" as const, length }))

/**
 * A closed ledger file with the shape real runs leave: two runs, jobs with metrics at several lengths, a failed
 * job. The WAL is checkpointed on close, so every byte is in the file.
 */
export const writeRealisticLedger = (path: string = tempLedgerPath()): string => {
  const store = LedgerStore.open(path)
  const lengths = [64, 128, 256]
  for (const runNumber of [0, 1]) {
    writeRun(
      store,
      ["rope", "fope", "nope"].flatMap((cell, c) =>
        [0, 1].map((seed) => ({ cell, seed, metrics: lossAt(lengths, (l) => 2 + c * 0.1 + seed * 0.01 + runNumber * 0.001 + l / 1000) }))
      ),
      { suite: "realistic" }
    )
  }
  const run = store.beginRun(runInfo({ suite: "realistic" }))
  const job = store.startJob({ runId: run.id, key: "diverged", name: "rope/seed9", config: { cell: "rope", lr: 1 }, seed: 9 })
  store.failJob(job.id, { error: "loss diverged (NaN) at step 12", step: 12 })
  store.finishRun(run.id)
  store.close()
  return path
}
