import { describe, expect, it } from "vitest"
import { runLedgerBenchmark } from "../../ledger/bench.js"
import { resolveRef } from "../../ledger/sides.js"
import { LedgerStore } from "../../ledger/store.js"
import { lossAt, tempLedgerPath, writeRun } from "./helpers.js"

describe("ledger benchmark and references", () => {
  it("runLedgerBenchmark returns its figures and the same-run baseline ratios as metric records (tiny size; speed is not asserted)", () => {
    const metrics = runLedgerBenchmark({ records: 40 })
    expect(metrics.map((m) => m.name)).toEqual([
      "ledger.baseline.plain_sqlite_records_per_second",
      "ledger.write.ratio_vs_plain_sqlite",
      "ledger.baseline.plain_read_and_hash_seconds",
      "ledger.verify.ratio_vs_plain_read",
      "ledger.write.records_per_second",
      "ledger.write.metrics_per_second",
      "ledger.verify.seconds",
      "ledger.verify.records_per_second"
    ])
    expect(metrics.every((m) => Number.isFinite(m.value) && m.value > 0)).toBe(true)
  })

  it("resolves run prefixes, job keys and suite@commit references", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const runId = writeRun(store, [{ cell: "s/rope/tiny", seed: 1, metrics: lossAt([64], () => 3) }], {
      git: { commit: "abc123", dirtyHash: null }
    })
    expect(resolveRef(store, runId.slice(0, 8))).toEqual({ kind: "run", runId })
    const key = store.jobs()[0].key
    expect(resolveRef(store, `key:${key}`)).toEqual({ kind: "key", key })
    expect(resolveRef(store, "synthetic@abc")).toEqual({ kind: "suite", suite: "synthetic", commit: "abc" })
    expect(() => resolveRef(store, "zzzz")).toThrow(/matches no run id, job key or suite/)
    store.close()
  })
})
