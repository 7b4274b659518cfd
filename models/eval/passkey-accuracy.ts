/**
 * Passkey retrieval accuracy per length (the FoPE paper's Fig. 1a, protocol of landmark
 * attention, models/data/passkey.ts): for each length, `trials` prompts of exactly that many tokens, greedy
 * decoding of 10 tokens, correct when the first integer in the decoded output equals the key.
 *
 * Decoding reruns the whole growing sequence for each new token (no KV cache): up to 10 forward passes per
 * batch of prompts, fine for the small models here. All prompts of a length have the same length, so they
 * batch (memory-bounded, batching.ts). Two shortcuts with the same verdicts as plain greedy decoding:
 * a teacher-forced pass first checks whether greedy would emit " {k}." (then 1 pass instead of 10), and
 * decoding stops once every row's first integer is settled (a digit run followed by a non-digit).
 * Seeds: the prompts of length L come from SeededRandom.create(seed, `passkey-eval/L`), so adding or removing a
 * length never changes the prompts of another; `promptsHash` (sha256 of every length, key and prompt token)
 * identifies the exact set evaluated.
 */
import { createHash } from "node:crypto"
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { makePasskeyExample, passkeyMinimumLength, type PasskeyExample } from "../data/passkey.js"
import type { Tokenizer } from "../data/tokenizer.js"
import { DEFAULT_MEMORY_BUDGET_BYTES, evalBatchSize } from "./batching.js"
import type { MetricRecord } from "./metrics.js"
import { lengthNotApplicable, releaseEmbedding, resolveEmbedding, type EmbeddingChoice, type EvaluableModel } from "./model.js"
import { yieldToEventLoop, type RunControl } from "./windows.js"

export const PASSKEY_DECODE_TOKENS = 10

export interface PasskeyOptions extends RunControl {
  readonly trials: number
  readonly seed: number
  readonly batchSize?: number
  readonly embedding?: EmbeddingChoice
  readonly memoryBudgetBytes?: number
  /** tokens decoded greedily (default 10, the protocol's) */
  readonly decodeTokens?: number
  /**
   * Check first, with one teacher-forced pass, whether greedy decoding would emit the answer " {k}." (then the
   * trial is correct without 10 passes); decode the others in full. Same verdicts as plain greedy decoding
   * (up to float ties); default true. 1 pass for a correct trial, 11 for a wrong one (vs 10).
   */
  readonly answerCheck?: boolean
}

export type PasskeyRow =
  | {
      readonly applicable: true
      readonly length: number
      readonly accuracy: number
      readonly correct: number
      readonly trials: number
      /** sha256 of this length's keys and prompts */
      readonly promptsHash: string
    }
  | {
      readonly applicable: false
      readonly length: number
      readonly reason: string
      readonly accuracy: null
      readonly correct: 0
      readonly trials: 0
      readonly promptsHash: null
    }

/** One row per length, in order; the hash of every prompt evaluated; the ledger records of the applicable rows. */
export interface PasskeyResult {
  readonly rows: PasskeyRow[]
  readonly promptsHash: string
  readonly metrics: MetricRecord[]
}

const notApplicable = (length: number, reason: string): PasskeyRow => ({
  applicable: false,
  length,
  reason,
  accuracy: null,
  correct: 0,
  trials: 0,
  promptsHash: null
})

/** The first integer in `text` (a run of ASCII digits), or null. */
export const firstInteger = (text: string): number | null => {
  const m = /\d+/.exec(text)
  return m ? Number(m[0]) : null
}

/** true once `text` holds a digit run followed by a non-digit: its first integer can no longer change. */
export const firstIntegerSettled = (text: string): boolean => /\d\D/.test(text)

/**
 * Greedy continuation of `prompts` (all the same length): up to `steps` times, run the model on the sequence so
 * far and append the argmax of the last position's logits. Stops early once `settled` holds for every row's
 * output so far (the rest of the output could not change the verdict). Returns each row's generated ids.
 */
export const greedyDecode = (
  model: EvaluableModel,
  prompts: ReadonlyArray<Int32Array>,
  steps: number,
  options: { readonly embedding?: EvaluableModel["embedding"]; readonly settled?: (generated: Int32Array) => boolean } = {}
): Int32Array[] => {
  const B = prompts.length
  const T0 = prompts[0]!.length
  const V = model.config.vocabSize
  let generated = prompts.map(() => new Int32Array(steps))
  let seq = new Int32Array(B * T0)
  prompts.forEach((p, b) => {
    if (p.length !== T0) throw new RangeError(`greedyDecode: prompts must share one length, got ${p.length} and ${T0}`)
    seq.set(p, b * T0)
  })
  for (let s = 0; s < steps; s++) {
    const T = T0 + s
    const next = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(seq, [B, T], "int32"), { embedding: options.embedding }) // [B, T, V]
      return logits
        .slice([0, T - 1, 0], [B, 1, V])
        .reshape([B, V])
        .argMax(-1) // [B]
    })
    const ids = next.dataSync()
    next.dispose()
    const grown = new Int32Array(B * (T + 1))
    for (let b = 0; b < B; b++) {
      grown.set(seq.subarray(b * T, (b + 1) * T), b * (T + 1))
      grown[b * (T + 1) + T] = ids[b]!
      generated[b]![s] = ids[b]!
    }
    if (options.settled && generated.every((g) => options.settled!(g.subarray(0, s + 1)))) {
      generated = generated.map((g) => g.slice(0, s + 1))
      break
    }
    seq = grown
  }
  return generated
}

/**
 * For each example, whether greedy decoding would produce its answer " {k}." first: one teacher-forced pass over
 * prompt + answer (all but its last token) per answer length, true when the argmax at every answer position is
 * the answer's token. Greedy decoding is deterministic, so a match means greedy emits exactly these tokens, and
 * " {k}." fixes the first integer to k. A mismatch decides nothing (the model may still write the key another
 * way): those examples are decoded in full.
 */
export const greedyEmitsAnswer = (
  model: EvaluableModel,
  examples: ReadonlyArray<PasskeyExample>,
  options: { readonly embedding?: EvaluableModel["embedding"] } = {}
): boolean[] => {
  const verdict = examples.map(() => false)
  const V = model.config.vocabSize
  const byAnswerLength = new Map<number, number[]>()
  examples.forEach((e, i) => byAnswerLength.set(e.answer.length, [...(byAnswerLength.get(e.answer.length) ?? []), i]))
  for (const [m, members] of byAnswerLength) {
    if (m === 0) continue
    const L = examples[members[0]!]!.tokens.length
    const T = L + m - 1
    const ids = new Int32Array(members.length * T)
    members.forEach((i, b) => {
      ids.set(examples[i]!.tokens, b * T)
      ids.set(examples[i]!.answer.subarray(0, m - 1), b * T + L)
    })
    const predicted = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(ids, [members.length, T], "int32"), { embedding: options.embedding }) // [g, T, V]
      return logits.slice([0, L - 1, 0], [members.length, m, V]).argMax(-1) // [g, m]: predictions for the answer positions
    })
    const values = predicted.dataSync()
    predicted.dispose()
    members.forEach((i, b) => {
      const answer = examples[i]!.answer
      let all = true
      for (let j = 0; j < m && all; j++) all = values[b * m + j] === answer[j]
      verdict[i] = all
    })
  }
  return verdict
}

const hashExamples = (h: ReturnType<typeof createHash>, length: number, examples: ReadonlyArray<PasskeyExample>): void => {
  h.update(`length ${length}\0`)
  for (const e of examples) {
    h.update(`key ${e.key}\0`)
    h.update(new Uint8Array(e.tokens.buffer, e.tokens.byteOffset, e.tokens.byteLength))
  }
}

export const passkeyMetrics = (rows: ReadonlyArray<PasskeyRow>): MetricRecord[] =>
  rows.flatMap((r) =>
    r.applicable
      ? [
          { name: "passkey_accuracy", value: r.accuracy, unit: "fraction", better: "higher" as const, length: r.length },
          { name: "passkey_trials", value: r.trials, unit: "trials", better: "none" as const, length: r.length }
        ]
      : []
  )

export const passkeyAccuracy = async (
  model: EvaluableModel,
  tokenizer: Tokenizer,
  lengths: ReadonlyArray<number>,
  options: PasskeyOptions
): Promise<PasskeyResult> => {
  if (!Number.isInteger(options.trials) || options.trials < 1)
    throw new RangeError(`passkey trials must be a positive integer, got ${options.trials}`)
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new RangeError(
      `passkey: tokenizer "${tokenizer.name}" has ${tokenizer.vocabSize} tokens but the model's vocabulary is only ${model.config.vocabSize}; use the tokenizer the model was trained with`
    )
  }
  const steps = options.decodeTokens ?? PASSKEY_DECODE_TOKENS
  const all = createHash("sha256")
  all.update(`fope-harness/passkey-eval/v1\0seed ${options.seed}\0trials ${options.trials}\0decode ${steps}\0${tokenizer.id}\0`)
  const rows: PasskeyRow[] = []
  const minimum = passkeyMinimumLength(tokenizer).prompt
  for (const length of lengths) {
    if (length < minimum) {
      rows.push(
        notApplicable(length, `a passkey prompt needs at least ${minimum} ${tokenizer.name} tokens; length ${length} cannot hold it`)
      )
      continue
    }
    const resolved = resolveEmbedding(model, options.embedding, length)
    if ("reason" in resolved) {
      rows.push(notApplicable(length, resolved.reason))
      continue
    }
    try {
      // the last forward pass sees the prompt plus all but the last generated token
      const reason = lengthNotApplicable(resolved.embedding, length + steps - 1)
      if (reason) {
        rows.push(notApplicable(length, reason))
        continue
      }
      const rng = SeededRandom.create(options.seed, `passkey-eval/${length}`)
      const examples = Array.from({ length: options.trials }, () => makePasskeyExample(rng, length, tokenizer))
      const h = createHash("sha256")
      hashExamples(h, length, examples)
      hashExamples(all, length, examples)
      const batchSize = evalBatchSize(
        model.config,
        length + steps,
        options.batchSize ?? 8,
        options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES
      )
      let correct = 0
      for (let first = 0; first < examples.length; first += batchSize) {
        options.signal?.throwIfAborted()
        const batch = examples.slice(first, first + batchSize)
        // ids beyond the tokenizer (a padded vocabulary) decode to nothing: they cannot spell a digit
        const text = (ids: Int32Array): string => tokenizer.decode(ids.filter((id) => id < tokenizer.vocabSize))
        const answered =
          options.answerCheck === false
            ? batch.map(() => false)
            : greedyEmitsAnswer(
                model,
                batch.map((e) => (e.answer.length <= steps ? e : { ...e, answer: new Int32Array(0) })),
                { embedding: resolved.embedding }
              )
        correct += answered.filter(Boolean).length
        const rest = batch.filter((_, b) => !answered[b])
        if (rest.length > 0) {
          const outputs = greedyDecode(
            model,
            rest.map((e) => e.tokens),
            steps,
            { embedding: resolved.embedding, settled: (ids) => firstIntegerSettled(text(ids)) }
          )
          rest.forEach((e, b) => {
            if (firstInteger(text(outputs[b]!)) === e.key) correct++
          })
        }
        options.onProgress?.(Math.min(first + batchSize, examples.length), examples.length)
        await yieldToEventLoop()
      }
      rows.push({
        applicable: true,
        length,
        accuracy: correct / options.trials,
        correct,
        trials: options.trials,
        promptsHash: h.digest("hex")
      })
    } finally {
      releaseEmbedding(resolved)
    }
  }
  return { rows, promptsHash: all.digest("hex"), metrics: passkeyMetrics(rows) }
}
