/**
 * Training time across sessions: the checkpoint carries the wall-clock training time (outside its hash), so a job
 * resumed from a mid-run checkpoint and a job restored from an existing final checkpoint record the whole time,
 * and say in their record that they were resumed or restored.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { parseSuiteSync } from "../../harness/suite/load-suite.js"
import { CorpusService } from "../../harness/runner/corpus-service.js"
import { Engine } from "../../harness/runner/engine-service.js"
import { Ledger } from "../../ledger/service.js"
import { Progress } from "../../harness/runner/progress.js"
import { planSuite, runSuite } from "../../harness/runner/run-suite.js"
import { buildModel } from "../../harness/runner/build-model.js"
import { checkpointDirectory } from "../../harness/runner/run-job.js"
import { loadCorpus } from "../../models/data/corpus.js"
import { readTrainingTiming, TIMING_FILE } from "../../models/checkpoint/checkpoint.js"
import { readVerifiedFiles } from "../../models/checkpoint/manifest.js"
import { initEngine } from "../../models/engine/index.js"
import { Trainer } from "../../models/train/index.js"
import { scratch, tinySuite } from "./helpers.js"

const suite = parseSuiteSync(tinySuite({ name: "timing", embeddings: ["rope"] }), "timing.json")
const TOKENS = 6 * 2 * 16 // steps x batch x length of tinySuite

const run = (ledger: string, checkpoints: string) =>
  Effect.runPromise(
    runSuite({ suite, force: false, forceScale: false, checkpointRoot: checkpoints }).pipe(
      Effect.provide(Layer.mergeAll(Ledger.layer(ledger), CorpusService.layer, Engine.layer("wasm", 1), Progress.layerCapture))
    )
  )

const recorded = (ledger: string) => {
  const store = LedgerStore.open(ledger)
  try {
    const [job] = store.jobs({ status: "done" })
    const metric = (name: string) => store.metrics(job!.id).find((m) => m.name === name)?.value
    return {
      timings: job!.timings as Record<string, number>,
      trainSeconds: metric("train_seconds"),
      tokensPerSecond: metric("train_tokens_per_s")
    }
  } finally {
    store.close()
  }
}

describe("training time across sessions", () => {
  it("a job restored from an existing final checkpoint records the time that trained it and is marked restored", async () => {
    const checkpoints = scratch("timing-ckpt-")
    await run(join(scratch("timing-a-"), "a.db"), checkpoints)
    const [job] = await Effect.runPromise(planSuite(suite, {}).pipe(Effect.provide(CorpusService.layer)))
    const dir = checkpointDirectory(checkpoints, job!.key)
    const saved = readTrainingTiming(dir)
    expect(saved?.sessions).toBe(1)
    expect(saved!.trainSeconds).toBeGreaterThan(0)
    // the wall clock is kept out of the checkpoint's hash: the manifest does not list it
    expect(readVerifiedFiles(dir).files.has(TIMING_FILE)).toBe(false)

    // as if another ledger's run had spent 1000 s training it in the shared checkpoint folder
    const file = join(dir, TIMING_FILE)
    writeFileSync(file, readFileSync(file, "utf8").replace(/"trainSeconds": [0-9.e-]+/, `"trainSeconds": 1000`))
    const ledgerB = join(scratch("timing-b-"), "b.db")
    await run(ledgerB, checkpoints)
    const b = recorded(ledgerB)
    expect(b.timings.restoredFromFinalCheckpoint).toBe(1)
    expect(b.timings.resumedFromStep).toBe(6)
    expect(b.trainSeconds).toBeGreaterThanOrEqual(1000)
    expect(b.trainSeconds).toBeLessThan(1010)
    expect(b.timings.train).toBe(b.trainSeconds)
    expect(b.tokensPerSecond).toBeCloseTo(TOKENS / b.trainSeconds!, 9)
  }, 120_000)

  it("a job resumed from a mid-run checkpoint records the time before the resume plus its own, and is marked resumed", async () => {
    await initEngine({ backend: "wasm", threads: 1 })
    const checkpoints = scratch("timing-resume-")
    const [job] = await Effect.runPromise(planSuite(suite, {}).pipe(Effect.provide(CorpusService.layer)))
    // three of six steps trained "earlier", in 500 s of wall clock
    const model = buildModel(job!.config)
    const trainer = Trainer.create(model, loadCorpus({ corpus: "sotu", tokenizer: "bytes" }).train, job!.config.training, job!.config.seed)
    for (let i = 0; i < 3; i++) trainer.next()
    trainer.checkpoint(checkpointDirectory(checkpoints, job!.key), { trainSeconds: 500, sessions: 1 })
    trainer.dispose()
    model.embedding.dispose()
    model.dispose()

    const ledger = join(scratch("timing-c-"), "c.db")
    await run(ledger, checkpoints)
    const c = recorded(ledger)
    expect(c.timings.resumedFromStep).toBe(3)
    expect(c.timings.restoredFromFinalCheckpoint).toBeUndefined()
    expect(c.timings.sessions).toBe(2)
    expect(c.timings.trainThisSession).toBeGreaterThan(0)
    expect(c.trainSeconds).toBeCloseTo(500 + c.timings.trainThisSession!, 6)
    expect(c.tokensPerSecond).toBeCloseTo(TOKENS / c.trainSeconds!, 9)
    expect(readTrainingTiming(checkpointDirectory(checkpoints, job!.key))).toMatchObject({ sessions: 2 })
  }, 120_000)
})
