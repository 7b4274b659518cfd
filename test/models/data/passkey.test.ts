import { describe, expect, it } from "vitest"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { DataError } from "../../../models/data/errors.js"
import {
  makePasskeyExample,
  makePasskeyTrainingRow,
  PASSKEY_PROTOCOL,
  PASSKEY_PROTOCOL_HASH,
  passkeyMinimumLength,
  passkeyMixture,
  passkeyProtocolHash
} from "../../../models/data/passkey.js"
import { getTokenizer } from "../../../models/data/tokenizer.js"

const bytes = getTokenizer("bytes")
const TASK =
  "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there."
const FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
const QUESTION = "What is the pass key? The pass key is"
const fillerStream = Array.from({ length: 400 }, () => FILLER).join(" ")

describe("passkey prompts (byte tokenizer)", () => {
  it("follow the protocol line by line, at exactly the asked length", () => {
    const rng = SeededRandom.create(7, "test/passkey")
    for (const length of [256, 300, 512, 1024, 4096]) {
      for (let trial = 0; trial < 5; trial++) {
        const e = makePasskeyExample(rng, length, bytes)
        expect(e.tokens.length).toBe(length)
        expect(e.promptLength).toBe(length)
        expect(Number.isInteger(e.key) && e.key >= 1 && e.key <= 50000).toBe(true)
        const text = bytes.decode(e.tokens)
        const lines = text.split("\n")
        expect(lines.length).toBe(5)
        expect(lines[0]).toBe(TASK)
        expect(lines[2]).toBe(`The pass key is ${e.key}. Remember it. ${e.key} is the pass key.`)
        expect(lines[4]).toBe(QUESTION)
        // the filler is one continuous text, cut in two by the key line at a random offset
        expect(lines[1]! + lines[3]!).toBe(fillerStream.slice(0, e.fillerTotal))
        expect(lines[1]!.length).toBe(e.fillerBefore)
        expect(e.fillerBefore).toBeGreaterThanOrEqual(0)
        expect(e.fillerBefore).toBeLessThanOrEqual(e.fillerTotal)
        expect(bytes.decode(e.tokens.subarray(e.keyLineStart, e.keyLineStart + 15))).toBe("The pass key is")
        expect(bytes.decode(e.answer)).toBe(` ${e.key}.`)
      }
    }
  })

  it("same seed -> same prompt; another seed -> another prompt", () => {
    const a = makePasskeyExample(SeededRandom.create(1, "p"), 512, bytes)
    const b = makePasskeyExample(SeededRandom.create(1, "p"), 512, bytes)
    const c = makePasskeyExample(SeededRandom.create(2, "p"), 512, bytes)
    expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens))
    expect(b.key).toBe(a.key)
    expect(c.key === a.key && c.fillerBefore === a.fillerBefore).toBe(false)
  })

  it("keys cover [1, 50000] and offsets cover the filler (no fixed position)", () => {
    const rng = SeededRandom.create(3, "spread")
    const keys: number[] = []
    const offsets: number[] = []
    for (let i = 0; i < 300; i++) {
      const e = makePasskeyExample(rng, 400, bytes)
      keys.push(e.key)
      offsets.push(e.fillerBefore / e.fillerTotal)
    }
    expect(Math.min(...keys)).toBeGreaterThanOrEqual(1)
    expect(Math.max(...keys)).toBeLessThanOrEqual(50000)
    expect(Math.max(...keys) - Math.min(...keys)).toBeGreaterThan(40000)
    expect(Math.min(...offsets)).toBeLessThan(0.05)
    expect(Math.max(...offsets)).toBeGreaterThan(0.95)
  })

  it("refuses a length below the fixed text, saying the minimum", () => {
    const min = passkeyMinimumLength(bytes)
    const fixed = TASK.length + QUESTION.length + 4 + `The pass key is 50000. Remember it. 50000 is the pass key.`.length
    expect(min.prompt).toBe(fixed)
    expect(min.prompt).toBeGreaterThan(240)
    expect(min.prompt).toBeLessThanOrEqual(256)
    expect(() => makePasskeyExample(SeededRandom.create(1), 128, bytes)).toThrow(DataError)
    expect(() => makePasskeyExample(SeededRandom.create(1), 128, bytes)).toThrow(new RegExp(`at least ${min.prompt} tokens`))
    expect(makePasskeyExample(SeededRandom.create(1), min.prompt, bytes).tokens.length).toBe(min.prompt)
  })

  it("training rows are length+1 tokens ending with the answer after the question", () => {
    const rng = SeededRandom.create(5, "rows")
    for (const length of [256, 512]) {
      const row = makePasskeyTrainingRow(rng, length, bytes)
      expect(row.length).toBe(length + 1)
      const text = bytes.decode(row)
      const key = /The pass key is (\d+)\. Remember it\./.exec(text)![1]!
      expect(text.endsWith(`${QUESTION} ${key}.`)).toBe(true)
    }
    const min = passkeyMinimumLength(bytes).trainingRow
    expect(min).toBe(passkeyMinimumLength(bytes).prompt + " 50000.".length - 1)
    expect(makePasskeyTrainingRow(rng, min, bytes).length).toBe(min + 1)
    expect(() => makePasskeyTrainingRow(rng, min - 1, bytes)).toThrow(new RegExp(`at least ${min} tokens`))
  })

  it("has a protocol hash that moves with the protocol and the tokenizer", () => {
    expect(PASSKEY_PROTOCOL_HASH).toMatch(/^[0-9a-f]{64}$/)
    expect(passkeyProtocolHash()).toBe(PASSKEY_PROTOCOL_HASH)
    expect(passkeyProtocolHash(bytes)).not.toBe(PASSKEY_PROTOCOL_HASH)
    expect(PASSKEY_PROTOCOL.task).toBe(TASK)
    const m = passkeyMixture(bytes, 0.1)
    expect(m.hash).not.toBe(passkeyMixture(bytes, 0.2).hash)
    expect(m.make(SeededRandom.create(1), 300).length).toBe(301)
  })
})

describe("passkey prompts (gpt2 tokenizer)", () => {
  const gpt2 = getTokenizer("gpt2")
  it("are exactly the asked number of BPE tokens and decode to the protocol text", () => {
    const rng = SeededRandom.create(11, "gpt2")
    for (const length of [128, 512]) {
      const e = makePasskeyExample(rng, length, gpt2)
      expect(e.tokens.length).toBe(length)
      const lines = gpt2.decode(e.tokens).split("\n")
      expect(lines[0]).toBe(TASK)
      expect(lines[2]).toBe(`The pass key is ${e.key}. Remember it. ${e.key} is the pass key.`)
      expect(lines[4]).toBe(QUESTION)
      expect(gpt2.decode(e.answer)).toBe(` ${e.key}.`)
    }
    const min = passkeyMinimumLength(gpt2)
    expect(min.prompt).toBeLessThan(100)
    expect(() => makePasskeyExample(rng, min.prompt - 1, gpt2)).toThrow(new RegExp(`at least ${min.prompt}`))
  })
})
