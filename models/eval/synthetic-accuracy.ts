/**
 * Accuracy on a synthetic task by length (models/data/synthetic-tasks.ts): for each evaluation variant of the task
 * and each length, `trials` fresh examples of exactly that length; an answer token counts as correct when the
 * model's argmax at the position before it is that token (teacher forcing: the true prefix, one forward pass per
 * example). Reported per variant and length as `accuracy.<variant>` (correct answer tokens / answer tokens) and
 * `exact.<variant>` (examples whose answer tokens are all correct).
 *
 * One example per forward pass, so the cost is linear in `trials` (what the dry-run's cost probe scales by), and
 * memory is one sequence's. Examples of variant v at length n come from SeededRandom.create(seed,
 * `synthetic-eval/v/n`): adding a length or a variant never changes the examples of another.
 */
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { evaluationVariants, type SyntheticTask } from "../data/synthetic-tasks.js"
import type { MetricRecord } from "./metrics.js"
import { lengthNotApplicable, type EvaluableModel } from "./model.js"
import { yieldToEventLoop, type RunControl } from "./windows.js"

export interface SyntheticAccuracyOptions extends RunControl {
  readonly trials: number
  readonly seed: number
}

export interface SyntheticAccuracyRow {
  readonly variant: string
  readonly length: number
  readonly correct: number
  readonly answers: number
  readonly exact: number
  readonly trials: number
  /** why the length could not be evaluated (learned absolute beyond its table), else absent */
  readonly notApplicable?: string
}

/** Predicted next tokens at every position of one example: argmax of the logits, [length] (position t predicts t+1). */
const predictions = (model: EvaluableModel, tokens: Int32Array): Int32Array =>
  tf.tidy(() => {
    const logits = model.logits(tf.tensor2d(tokens, [1, tokens.length], "int32")) // [1, T, V]
    return tf.argMax(logits, -1).dataSync() as Int32Array // [T]
  })

export const syntheticAccuracy = async (
  model: EvaluableModel,
  task: SyntheticTask,
  lengths: ReadonlyArray<number>,
  options: SyntheticAccuracyOptions
): Promise<{ rows: SyntheticAccuracyRow[]; metrics: MetricRecord[] }> => {
  const rows: SyntheticAccuracyRow[] = []
  for (const { variant, make } of evaluationVariants(task)) {
    for (const length of lengths) {
      const reason = lengthNotApplicable(model.embedding, length)
      if (reason) {
        rows.push({ variant, length, correct: 0, answers: 0, exact: 0, trials: 0, notApplicable: reason })
        continue
      }
      const rng = SeededRandom.create(options.seed, `synthetic-eval/${variant}/${length}`)
      let correct = 0
      let answers = 0
      let exact = 0
      for (let trial = 0; trial < options.trials; trial++) {
        options.signal?.throwIfAborted()
        const example = make(rng, length)
        const predicted = predictions(model, example.tokens)
        let right = 0
        for (const t of example.answers) if (predicted[t - 1] === example.tokens[t]) right++
        correct += right
        answers += example.answers.length
        if (right === example.answers.length) exact++
        await yieldToEventLoop()
      }
      rows.push({ variant, length, correct, answers, exact, trials: options.trials })
    }
  }
  const metrics: MetricRecord[] = rows
    .filter((r) => r.notApplicable === undefined)
    .flatMap((r) => [
      {
        name: `accuracy.${r.variant}`,
        value: r.answers === 0 ? 0 : r.correct / r.answers,
        unit: "fraction",
        better: "higher" as const,
        length: r.length
      },
      {
        name: `exact.${r.variant}`,
        value: r.trials === 0 ? 0 : r.exact / r.trials,
        unit: "fraction",
        better: "higher" as const,
        length: r.length
      }
    ])
  return { rows, metrics }
}
