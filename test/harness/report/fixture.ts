/**
 * A synthetic ReportInput: 3 embeddings x 2 seeds, trained at length 64 and evaluated at 64, 128, 256, with loss
 * curves, passkey, extensions (rotary only), training curves and spectrum damage, plus one failed job. Values
 * follow simple formulas so tests can state the expected means.
 */
import type { ReportInput, ReportJob, ReportMetric } from "../../../harness/report/types.js"

export const EMBEDDINGS = ["nope", "rope", "fope"] as const
export const SEEDS = [0, 1] as const
export const LENGTHS = [64, 128, 256] as const
export const TRAIN_LENGTH = 64

/** Perplexity: grows past the training length, fastest for NoPE, slowest for FoPE; seed 1 is 2 higher. */
export const perplexityOf = (embedding: string, seed: number, length: number): number => {
  const growth = embedding === "nope" ? 40 : embedding === "rope" ? 10 : 2
  return 20 + growth * Math.log2(length / TRAIN_LENGTH) ** 2 + 2 * seed
}

/** A fake sha256 hex string, distinct per label. */
export const fakeHash = (label: string): string => {
  let h = 2166136261
  let out = ""
  for (let round = 0; out.length < 64; round++) {
    for (const c of `${label}/${round}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0
    out += h.toString(16).padStart(8, "0")
  }
  return out.slice(0, 64)
}

const metricsOf = (embedding: string, seed: number): ReportMetric[] => {
  const m: ReportMetric[] = []
  for (const length of LENGTHS) {
    const ppl = perplexityOf(embedding, seed, length)
    m.push({ name: "perplexity", value: ppl, unit: "ppl", better: "lower", length })
    m.push({ name: "val_loss", value: Math.log(ppl), unit: "nats", better: "lower", length })
    m.push({ name: "eval_tokens", value: 4 * length, unit: "tokens", better: "none", length })
    m.push({
      name: "passkey_accuracy",
      value: Math.max(
        0,
        1 - (embedding === "nope" ? 0.45 : embedding === "rope" ? 0.3 : 0.1) * Math.log2(length / TRAIN_LENGTH) - 0.05 * seed
      ),
      unit: "fraction",
      better: "higher",
      length
    })
    if (embedding !== "nope") {
      for (const [ext, factor] of [
        ["pi", 0.6],
        ["yarn", 0.4]
      ] as const) {
        m.push({ name: `perplexity@${ext}`, value: 20 + factor * (ppl - 20) + 1, unit: "ppl", better: "lower", length })
      }
    }
  }
  const longest = LENGTHS[LENGTHS.length - 1]
  for (let from = 0; from < longest; from += 32) {
    const past = Math.max(0, from - TRAIN_LENGTH) / TRAIN_LENGTH
    const rise = embedding === "nope" ? 1.2 : embedding === "rope" ? 0.5 : 0.1
    m.push({
      name: `loss_at_position_${from}`,
      value: 3.4 - 0.3 * Math.exp(-from / 24) + rise * past + 0.05 * seed,
      unit: "nats",
      better: "lower",
      length: longest
    })
  }
  for (let step = 0; step <= 100; step += 10) {
    m.push({
      name: "train_loss",
      value: 2.8 + 8 * Math.exp(-step / 25) + 0.1 * seed + (embedding === "nope" ? 0.3 : embedding === "rope" ? 0.12 : 0),
      unit: "nats",
      better: "lower",
      step
    })
  }
  m.push({ name: "train_tokens_per_s", value: 5000 + 100 * seed, unit: "tokens/s", better: "higher" })
  m.push({ name: "train_seconds", value: 12 + seed, unit: "s", better: "none" })
  m.push({ name: "eval_seconds", value: 3, unit: "s", better: "none" })
  if (embedding !== "nope") {
    m.push({ name: "spectrum_damage", value: embedding === "rope" ? 0.3 : 0.1, unit: "fraction", better: "lower", length: TRAIN_LENGTH })
    m.push({
      name: "spectrum_damage_layer0",
      value: embedding === "rope" ? 0.2 : 0.05,
      unit: "fraction",
      better: "lower",
      length: TRAIN_LENGTH
    })
    m.push({
      name: "spectrum_damage_layer1",
      value: embedding === "rope" ? 0.4 : 0.15,
      unit: "fraction",
      better: "lower",
      length: TRAIN_LENGTH
    })
  }
  return m
}

export const makeJob = (embedding: string, seed: number, status: ReportJob["status"] = "done"): ReportJob => {
  const name = `synthetic/${embedding}/nano/seed${seed}`
  return {
    name,
    cell: { embedding, scale: "nano", seed },
    key: fakeHash(`key:${name}`),
    recordHash: fakeHash(`record:${name}`),
    status,
    trainLength: TRAIN_LENGTH,
    backend: "wasm (2 threads, XNNPACK)",
    metrics: status === "done" ? metricsOf(embedding, seed) : []
  }
}

export const syntheticInput = (): ReportInput => ({
  suite: "synthetic",
  description: "Three embeddings, two seeds, three lengths: a test fixture.",
  generatedAt: "2026-11-26T08:00:00.000Z",
  ledgerPath: "/tmp/ledger.sqlite",
  ledgerHeadHash: fakeHash("head"),
  jobs: [...EMBEDDINGS.flatMap((e) => SEEDS.map((s) => makeJob(e, s))), makeJob("fope", 2, "failed")]
})
