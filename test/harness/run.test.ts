/**
 * End to end through the real pieces: a tiny suite trained on the real corpus with the wasm engine, recorded in a
 * real SQLite ledger. One ledger row per job; a second run skips every job by key; results are identical when the
 * same jobs run again from scratch (bitwise on the wasm engine).
 */
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { parseSuiteSync } from "../../harness/suite/load-suite.js"
import { CorpusService } from "../../harness/runner/corpus-service.js"
import { Engine } from "../../harness/runner/engine-service.js"
import { Ledger } from "../../ledger/service.js"
import { Progress } from "../../harness/runner/progress.js"
import { runSuite, type RunSummary } from "../../harness/runner/run-suite.js"
import type { Suite } from "../../suites/schema.js"
import { scratch, tinySuite } from "./helpers.js"

const run = (
  ledger: string,
  checkpoints: string,
  suiteData: Record<string, unknown>,
  extra: { force?: boolean; training?: Partial<Suite["training"]> } = {}
) =>
  Effect.runPromise(
    runSuite({
      // `training` is applied after decoding: values the suite format refuses, to reach the runner's own guards
      suite: ((s) => ({ ...s, training: { ...s.training, ...extra.training } }))(parseSuiteSync(suiteData, "tiny.json")),
      force: extra.force ?? false,
      forceScale: false,
      checkpointRoot: checkpoints
    }).pipe(Effect.provide(Layer.mergeAll(Ledger.layer(ledger), CorpusService.layer, Engine.layer("wasm", 1), Progress.layerCapture)))
  ) as Promise<RunSummary>

const metricsOf = (ledger: string) => {
  const store = LedgerStore.open(ledger)
  try {
    return store.jobs({ status: "done" }).map((j) => ({
      name: j.name,
      metrics: store
        .metrics(j.id)
        .filter((m) => !/seconds|per_s|rss/.test(m.name))
        .map((m) => [m.name, m.length, m.step, m.value])
    }))
  } finally {
    store.close()
  }
}

describe("harness run (in-process, wasm engine, real corpus, real ledger)", () => {
  it("records one ledger row per job, skips finished jobs by key, and reproduces bitwise", async () => {
    const dir = scratch()
    const ledger = join(dir, "harness.db")
    const first = await run(ledger, join(dir, "ckpt"), tinySuite())
    expect(first).toMatchObject({ planned: 2, done: 2, skipped: 0, failed: 0 })
    // every job releases its model, embedding tables and optimizer state: a second suite leaves no tensor behind
    const tensorsBefore = tf.memory().numTensors
    await run(join(dir, "leak.db"), join(dir, "ckpt-leak"), tinySuite())
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    expect(first.table).toMatch(/rope\s+nano\s+1\/1/)
    const store = LedgerStore.open(ledger)
    const jobs = store.jobs()
    expect(jobs.map((j) => j.status)).toEqual(["done", "done"])
    const m = store.metrics(jobs[0]!.id)
    expect(m.find((x) => x.name === "perplexity" && x.length === 16)?.value).toBeGreaterThan(1)
    expect(m.find((x) => x.name === "perplexity" && x.length === 32)?.value).toBeGreaterThan(1)
    expect(store.verify().ok).toBe(true)
    store.close()

    const second = await run(ledger, join(dir, "ckpt"), tinySuite())
    expect(second).toMatchObject({ planned: 2, done: 0, skipped: 2 })

    // the same jobs from scratch, in another ledger with no checkpoints: identical numbers, bit for bit
    const again = join(dir, "again.db")
    await run(again, join(dir, "ckpt2"), tinySuite())
    expect(metricsOf(again)).toEqual(metricsOf(ledger))
  })

  it("a NaN loss fails the job with its step recorded; the other jobs and the ledger are intact", async () => {
    const dir = scratch()
    const ledger = join(dir, "harness.db")
    // a learning rate this large overflows float32 in the first updates; suite files cap it at 1, so it is set
    // past the decoder: the runner must still fail a diverging job cleanly
    const suite = tinySuite({ embeddings: ["rope"], training: { length: 16, steps: 6, batchSize: 2, learningRate: 1, warmupSteps: 0 } })
    const summary = await run(ledger, join(dir, "ckpt"), suite, { training: { learningRate: 1e30 } })
    expect(summary.failed).toBe(1)
    const store = LedgerStore.open(ledger)
    const [job] = store.jobs()
    expect(job!.status).toBe("failed")
    expect(job!.failureStep).toBeGreaterThanOrEqual(1)
    expect(job!.error).toMatch(/NaN|Inf|finite/i)
    expect(store.metrics(job!.id)).toEqual([])
    expect(store.verify().ok).toBe(true)
    store.close()
  })
})
