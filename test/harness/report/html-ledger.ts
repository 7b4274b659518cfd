/**
 * A small real ledger for the HTML view's tests: the report fixture's jobs (fixture.ts: three embeddings x two
 * seeds with perplexity, loss by position, passkey, extensions, training curves and spectrum damage, plus a failed
 * job), written through LedgerStore as a run would write them, hash chain and all. No training: the metrics are
 * the fixture's formulas. The failed job's error and a run environment field carry markup, to prove the page
 * escapes what comes from the ledger.
 */
import { LedgerStore } from "../../../ledger/store.js"
import { EMBEDDINGS, LENGTHS, makeJob, SEEDS, TRAIN_LENGTH } from "./fixture.js"

export const SUITE = "synthetic"
export const HOSTILE = `<img src=x onerror="alert(1)"> diverged & "stopped"`

const configOf = (embedding: string, seed: number) => ({
  suite: SUITE,
  embedding: { name: embedding, label: embedding, params: embedding === "fope" ? { sigma: 0.3 } : {} },
  model: { scale: "nano", trainLength: TRAIN_LENGTH, layers: 2, dModel: 32, heads: 2, ffnHidden: 128, vocabSize: 256, gpuOnly: false },
  training: { steps: 100, batchSize: 4, seqLength: TRAIN_LENGTH, learningRate: 0.003 },
  data: { corpus: "sotu", tokenizer: "bytes", validFraction: 0.1, passkeyFraction: 0, contentHash: "0".repeat(64) },
  evaluation: {
    lengths: [...LENGTHS],
    tasks: ["perplexity", "loss-curve", "passkey", "spectrum"],
    maxWindows: 2,
    passkeyTrials: 4,
    lossBuckets: 8,
    extensions: [{ method: "none" }, { method: "pi" }, { method: "yarn" }]
  },
  seed
})

export interface WrittenLedger {
  readonly path: string
  /** hashes of the `job.done` records, one per done job */
  readonly doneHashes: ReadonlyArray<string>
  readonly headHash: string
}

export const writeHtmlLedger = (path: string): WrittenLedger => {
  const store = LedgerStore.open(path)
  try {
    const run = store.beginRun({
      suite: SUITE,
      git: { commit: "0123456789abcdef0123456789abcdef01234567", dirtyHash: null },
      codeVersion: "src-0123456789abcdef",
      environment: {
        node: "v20.20.2",
        cpuModel: `Test CPU <b>bold</b>`,
        cpuCount: 2,
        engine: {
          backend: "wasm",
          threads: 1,
          tfjsVersion: "4.22.0",
          simd: true,
          deterministic: true,
          kernelOverrides: ["BatchMatMul(simd gemm, fma)", "FusedAdamW(wasm simd)"]
        }
      }
    })
    for (const embedding of EMBEDDINGS)
      for (const seed of SEEDS) {
        const job = makeJob(embedding, seed)
        const row = store.startJob({ runId: run.id, key: job.key, name: job.name, config: configOf(embedding, seed), seed })
        store.completeJob(row.id, { metrics: job.metrics, reproducibility: { mode: "bitwise" }, timings: { train: 12, eval: 3 } })
      }
    const failed = makeJob("fope", 2, "failed")
    const row = store.startJob({ runId: run.id, key: failed.key, name: failed.name, config: configOf("fope", 2), seed: 2 })
    store.failJob(row.id, { error: HOSTILE, step: 12 })
    store.finishRun(run.id)
    const doneHashes = [...store.chainRecords()].filter((r) => r.kind === "job.done").map((r) => r.hash)
    return { path, doneHashes, headHash: store.head()!.hash }
  } finally {
    store.close()
  }
}
