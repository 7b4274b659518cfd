/** A suite trained on synthetic tasks end to end: rows from the generators, accuracy by length in the ledger. */
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { parseSuiteSync } from "../../harness/suite/load-suite.js"
import { CorpusService } from "../../harness/runner/corpus-service.js"
import { Engine } from "../../harness/runner/engine-service.js"
import { Ledger } from "../../ledger/service.js"
import { Progress } from "../../harness/runner/progress.js"
import { runSuite } from "../../harness/runner/run-suite.js"
import { formatNumber } from "../../harness/table.js"
import { scratch, tinySuite } from "./helpers.js"

describe("synthetic suite", () => {
  it("trains on the task mixture and records accuracy and exact match per variant and length", async () => {
    const dir = scratch()
    const ledger = join(dir, "h.db")
    const suite = tinySuite({
      embeddings: ["fox", { name: "rope", params: { randomPositions: 256 } }],
      data: { corpus: "sotu", tokenizer: "bytes", synthetic: ["flip-flop", "copy"] },
      training: { length: 32, steps: 4, batchSize: 2, learningRate: 0.003, warmupSteps: 1, checkpointEvery: 2 },
      evaluation: { lengthMultiples: [1, 2], tasks: ["synthetic"], passkeyTrials: 2 }
    })
    const summary = await Effect.runPromise(
      runSuite({ suite: parseSuiteSync(suite, "tiny.json"), force: false, forceScale: false, checkpointRoot: join(dir, "ck") }).pipe(
        Effect.provide(Layer.mergeAll(Ledger.layer(ledger), CorpusService.layer, Engine.layer("wasm", 1), Progress.layerCapture))
      )
    )
    expect(summary.done).toBe(2)
    // no perplexity in a synthetic suite: the closing table shows the mean accuracy over its tasks by length
    expect(summary.table).toMatch(/acc@32 +acc@64 \(2x\)/)
    expect(summary.table).toContain("mean over 2 synthetic task(s): flip-flop, copy")
    const store = LedgerStore.open(ledger)
    try {
      const fox = store.jobs({ status: "done" }).find((j) => j.name.includes("/fox/"))!
      const at32 = (task: string) => store.metrics(fox.id).find((m) => m.name === `accuracy.${task}` && m.length === 32)!.value
      const foxRow = summary.table.split("\n").find((line) => line.startsWith("fox "))!
      expect(foxRow.split(/ {2,}/)[3]).toBe(formatNumber((at32("flip-flop") + at32("copy")) / 2))
      for (const job of store.jobs({ status: "done" })) {
        const metrics = store.metrics(job.id).filter((m) => /^(accuracy|exact)\./.test(m.name))
        const names = [...new Set(metrics.map((m) => m.name))].sort()
        expect(names).toEqual(
          ["copy", "flip-flop", "flip-flop-dense", "flip-flop-sparse"].flatMap((v) => [`accuracy.${v}`, `exact.${v}`]).sort()
        )
        expect([...new Set(metrics.map((m) => m.length))].sort((a, b) => a! - b!)).toEqual([32, 64])
        for (const m of metrics) expect(m.value >= 0 && m.value <= 1).toBe(true)
      }
    } finally {
      store.close()
    }
  }, 120_000)

  it("refuses a synthetic task with a tokenizer other than bytes, naming the fix", async () => {
    const dir = scratch()
    const bad = tinySuite({ data: { corpus: "sotu", tokenizer: "gpt2", synthetic: ["copy"] } })
    const exit = await Effect.runPromiseExit(
      runSuite({ suite: parseSuiteSync(bad, "bad.json"), force: false, forceScale: false, checkpointRoot: join(dir, "ck") }).pipe(
        Effect.provide(Layer.mergeAll(Ledger.layer(join(dir, "h.db")), CorpusService.layer, Engine.layer("wasm", 1), Progress.layerCapture))
      )
    )
    expect(JSON.stringify(exit)).toMatch(/set data.tokenizer to \\?"bytes/)
  }, 60_000)
})
