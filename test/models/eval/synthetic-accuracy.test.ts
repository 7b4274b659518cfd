/** Synthetic accuracy (models/eval/synthetic-accuracy.ts): counting against fake models whose answers are known. */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import { beforeAll, describe, expect, it } from "vitest"
import { createEmbedding } from "../../../embeddings/registry.js"
import { SYNTHETIC_TASKS } from "../../../models/data/synthetic-tasks.js"
import type { EvaluableModel } from "../../../models/eval/model.js"
import { syntheticAccuracy } from "../../../models/eval/synthetic-accuracy.js"
import { SYNTHETIC_TASK_NAMES } from "../../../suites/schema.js"

beforeAll(async () => {
  await tf.setBackend("cpu")
  await tf.ready()
})

/** A fake model whose logits at t are one-hot on `pick(tokens, t)`. */
const fake = (pick: (tokens: Int32Array, t: number) => number): EvaluableModel => {
  const embedding = createEmbedding({ name: "nope" }, { dModel: 8, heads: 2, headDim: 4, layers: 1, trainLength: 64 }, 0)
  return {
    config: { vocabSize: 256, heads: 2, layers: 1, trainLength: 64 },
    embedding,
    logits: (tokens) => {
      const ids = tokens.dataSync() as Int32Array
      const T = ids.length
      const values = new Float32Array(T * 256)
      for (let t = 0; t < T; t++) values[t * 256 + pick(ids, t)] = 1
      return tf.tensor3d(values, [1, T, 256])
    },
    tokenLosses: () => {
      throw new Error("not used")
    }
  }
}

describe("synthetic accuracy", () => {
  it("the schema's task names are the generators', and harness list shows each with its parameters", async () => {
    expect([...SYNTHETIC_TASK_NAMES]).toEqual([...SYNTHETIC_TASKS])
    const { listText } = await import("../../../harness/cli/commands/list.js")
    const text = listText("tasks")
    for (const task of SYNTHETIC_TASKS) expect(text).toMatch(new RegExp(`^${task}\\s`, "m"))
    expect(text).toContain("p=0.8")
  })

  it("an oracle (the true next token) scores 1 everywhere; a constant model scores what its constant matches", async () => {
    const oracle = fake((ids, t) => ids[t + 1] ?? 0)
    for (const task of SYNTHETIC_TASKS) {
      const { metrics } = await syntheticAccuracy(oracle, task, [64, 128], { trials: 3, seed: 1 })
      expect(metrics.length).toBe((task === "flip-flop" ? 3 : 1) * 2 * 2)
      for (const m of metrics) expect(m.value, `${m.name}@${m.length}`).toBe(1)
    }
    const zeros = fake(() => "0".charCodeAt(0)) // always "0": right on flip-flop reads of a 0, never on letters
    const ff = await syntheticAccuracy(zeros, "flip-flop", [512], { trials: 10, seed: 2 })
    const acc = ff.metrics.find((m) => m.name === "accuracy.flip-flop")!.value
    expect(acc).toBeGreaterThan(0.3)
    expect(acc).toBeLessThan(0.7)
    const copy = await syntheticAccuracy(zeros, "copy", [64], { trials: 3, seed: 2 })
    expect(copy.metrics.map((m) => m.value)).toEqual([0, 0])
  })

  it("draws the same examples for the same seed and length, whatever the other lengths", async () => {
    const seen: string[] = []
    const recorder = fake((ids, t) => {
      if (t === 0) seen.push(String.fromCharCode(...ids))
      return 0
    })
    await syntheticAccuracy(recorder, "mqar", [64], { trials: 2, seed: 5 })
    const alone = [...seen]
    seen.length = 0
    await syntheticAccuracy(recorder, "mqar", [128, 64], { trials: 2, seed: 5 })
    expect(seen.filter((s) => s.length === 64)).toEqual(alone)
  })
})
