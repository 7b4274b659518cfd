import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { getTokenizer } from "../../../models/data/tokenizer.js"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { makePasskeyExample } from "../../../models/data/passkey.js"
import { firstInteger, firstIntegerSettled, greedyDecode, passkeyAccuracy } from "../../../models/eval/passkey-accuracy.js"
import { fakeEmbedding, nextTokenModel, useCpu } from "./fake-models.js"

beforeAll(useCpu)

const bytes = getTokenizer("bytes")
const QUESTION = "What is the pass key? The pass key is"

/** Reads the key from the prompt and spells `answer(key)` after the question, one byte per step. */
const spelling = (answer: (key: number) => string, embedding = fakeEmbedding()) =>
  nextTokenModel(
    256,
    (row) => {
      const text = bytes.decode(row)
      const key = Number(/The pass key is (\d+)\. Remember it\./.exec(text)?.[1] ?? "0")
      const at = text.lastIndexOf(QUESTION)
      if (at < 0) return 32 // before the question: any byte
      const generated = text.slice(at + QUESTION.length)
      return (answer(key)[generated.length] ?? " ").charCodeAt(0)
    },
    embedding
  )
const oracle = (embedding = fakeEmbedding()) => spelling((key) => ` ${key}.\n`, embedding)

describe("passkeyAccuracy", () => {
  it("is 1 for an oracle that copies the key and 0 for a constant model", async () => {
    const lengths = [256, 300]
    const good = await passkeyAccuracy(oracle(), bytes, lengths, { trials: 5, seed: 3, batchSize: 2 })
    expect(good.rows.map((r) => r.accuracy)).toEqual([1, 1])
    expect(good.rows.map((r) => r.trials)).toEqual([5, 5])
    expect(good.metrics.filter((m) => m.name === "passkey_accuracy")).toEqual([
      { name: "passkey_accuracy", value: 1, unit: "fraction", better: "higher", length: 256 },
      { name: "passkey_accuracy", value: 1, unit: "fraction", better: "higher", length: 300 }
    ])
    const sevens = nextTokenModel(256, () => "7".charCodeAt(0))
    const bad = await passkeyAccuracy(sevens, bytes, lengths, { trials: 5, seed: 3 })
    expect(bad.rows.map((r) => r.accuracy)).toEqual([0, 0])
    // the same seed evaluates the same prompts, whatever the model
    expect(bad.promptsHash).toBe(good.promptsHash)
    const other = await passkeyAccuracy(sevens, bytes, lengths, { trials: 5, seed: 4 })
    expect(other.promptsHash).not.toBe(good.promptsHash)
  })

  it("gives the same verdicts with and without the teacher-forced answer check, in fewer passes", async () => {
    // right as " k." for even keys, right but unpunctuated (" k\n") for keys = 1 mod 4, wrong for keys = 3 mod 4
    const answer = (key: number) => (key % 2 === 0 ? ` ${key}.` : key % 4 === 1 ? ` ${key}\nok` : ` ${key + 1}.`)
    const options = { trials: 12, seed: 5, batchSize: 4 }
    const rng = SeededRandom.create(5, "passkey-eval/260")
    const keys = Array.from({ length: 12 }, () => makePasskeyExample(rng, 260, bytes).key)
    const expected = keys.filter((k) => k % 4 !== 3).length / 12
    const checked = spelling(answer)
    const plain = spelling(answer)
    const a = await passkeyAccuracy(checked, bytes, [260], options)
    const b = await passkeyAccuracy(plain, bytes, [260], { ...options, answerCheck: false })
    expect(a.rows[0]!.accuracy).toBeCloseTo(expected, 12)
    expect(b.rows[0]!.accuracy).toBeCloseTo(expected, 12)
    expect(a.promptsHash).toBe(b.promptsHash)
    // the oracle needs one pass per batch and answer length (4- or 5-digit keys) with the check, 6+ per batch without
    const fast = oracle()
    const slow = oracle()
    await passkeyAccuracy(fast, bytes, [260], options)
    await passkeyAccuracy(slow, bytes, [260], { ...options, answerCheck: false })
    expect(fast.calls.length).toBeLessThanOrEqual(2 * 3)
    expect(slow.calls.length).toBeGreaterThanOrEqual(6 * 3)
  })

  it("decodes greedily 10 tokens by rerunning the growing sequence", () => {
    const model = oracle()
    const prompt = bytes.encode(`x\n\nThe pass key is 4242. Remember it. 4242 is the pass key.\n\n${QUESTION}`)
    const [out] = greedyDecode(model, [prompt], 10)
    expect(bytes.decode(out!)).toBe(" 4242.\n   ") // 10 bytes
    expect(model.calls.map((c) => c[0]!.length)).toEqual(Array.from({ length: 10 }, (_, i) => prompt.length + i))
    expect(firstInteger(" 4242.\n")).toBe(4242)
    // stopping once the first integer is settled: " 4242." is 6 tokens
    const [short] = greedyDecode(oracle(), [prompt], 10, { settled: (ids) => firstIntegerSettled(bytes.decode(ids)) })
    expect(bytes.decode(short!)).toBe(" 4242.")
    expect(firstIntegerSettled(" 42")).toBe(false)
    expect(firstIntegerSettled("x 42 ")).toBe(true)
    expect(firstInteger("no digits")).toBeNull()
  })

  it("reports lengths that cannot hold the prompt or exceed the embedding as not applicable", async () => {
    const model = oracle(fakeEmbedding({ maxLength: 300 }))
    const { rows, metrics } = await passkeyAccuracy(model, bytes, [128, 256, 300], { trials: 2, seed: 1 })
    expect(rows.map((r) => r.applicable)).toEqual([false, true, false])
    expect(!rows[0]!.applicable && rows[0]!.reason).toMatch(/at least 247/)
    expect(!rows[2]!.applicable && rows[2]!.reason).toMatch(/only up to length 300/) // 300 + 9 generated positions
    expect(metrics.map((m) => m.length)).toEqual([256, 256])
  })

  it("leaves no tensors behind", async () => {
    const before = tf.memory().numTensors
    await passkeyAccuracy(oracle(), bytes, [256], { trials: 2, seed: 1 })
    expect(tf.memory().numTensors).toBe(before)
  })
})
