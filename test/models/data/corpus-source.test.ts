/**
 * Declared corpora: every shipped fixture format loads, splits by document with a seed and hashes by content
 * (not by location); every unusable source is refused with a message naming the problem and the fix.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { beforeEach, describe, expect, it } from "vitest"
import { clearCorpusCache, corpusLengthProblems, loadCorpus } from "../../../models/data/corpus.js"
import {
  firstInvalidUtf8,
  seededValidationDocuments,
  sourceDeclarationProblems,
  type CorpusSource
} from "../../../models/data/corpus-source.js"
import { DataError } from "../../../models/data/errors.js"
import { scratch } from "../../harness/helpers.js"

const fixtures = fileURLToPath(new URL("../../fixtures/corpora", import.meta.url))
const at = (p: string): string => join(fixtures, p)
const load = (corpus: CorpusSource, tokenizer: "bytes" | "gpt2" | "none" = "bytes", validFraction = 0.2) =>
  loadCorpus({ corpus, tokenizer, validFraction })
const refusal = (corpus: CorpusSource, tokenizer: "bytes" | "gpt2" | "none" = "bytes"): string => {
  try {
    load(corpus, tokenizer)
  } catch (e) {
    expect(e).toBeInstanceOf(DataError)
    return (e as Error).message
  }
  throw new Error("the source was accepted")
}

beforeEach(() => clearCorpusCache())

const DOCUMENTS = 12

describe("each declared format loads and splits by document", () => {
  it("a folder of .txt files: one document per file, a seeded split with no document in both streams", () => {
    const c = load({ kind: "text", path: at("text-folder") })
    expect(c.documents).toEqual({ train: 10, valid: 2 })
    expect(new Set([...c.files.train, ...c.files.valid]).size).toBe(DOCUMENTS)
    const validText = new TextDecoder().decode(Uint8Array.from(c.valid))
    for (const f of c.files.valid) expect(validText).toContain(readFileSync(at(`text-folder/${f}`), "utf8").trim())
    for (const f of c.files.train) expect(validText).not.toContain(readFileSync(at(`text-folder/${f}`), "utf8").trim())
    expect(c.splitRule).toMatch(/seeded-document-shuffle\/v1.*seed 0.*f=0.2/)
  })

  it("one text file with a declared separator gives the same documents as the folder", () => {
    const file = load({ kind: "text", path: at("text-file.txt"), separator: "\n\n===\n\n" })
    const folder = load({ kind: "text", path: at("text-folder") })
    expect(file.documents).toEqual(folder.documents)
    expect(Array.from(file.valid)).toEqual(Array.from(folder.valid))
    expect(Array.from(file.train)).toEqual(Array.from(folder.train))
  })

  it("JSON Lines, plain and gzip-compressed: the same documents and the same content hash", () => {
    const plain = load({ kind: "jsonl", path: at("c4-style.jsonl") })
    const gz = load({ kind: "jsonl", path: at("c4-style.jsonl.gz") })
    expect(plain.documents).toEqual({ train: 10, valid: 2 })
    expect(plain.files.valid.every((n) => /^line \d+$/.test(n))).toBe(true)
    expect(gz.hash).toBe(plain.hash)
    expect(Array.from(gz.train)).toEqual(Array.from(plain.train))
  })

  it("nanoGPT's train.bin / val.bin are used as given; one .bin splits after each end-of-text id", () => {
    const pair = load({ kind: "tokens", train: at("tokens/train.bin"), valid: at("tokens/val.bin"), vocabSize: 257 }, "none")
    expect(pair.tokens.train).toBe(readFileSync(at("tokens/train.bin")).length / 2)
    expect(pair.tokens.valid).toBe(readFileSync(at("tokens/val.bin")).length / 2)
    expect(pair.tokenizer.name).toBe("none")
    expect(() => pair.tokenizer.encode("x")).toThrow(/pre-tokenized without a tokenizer/)
    const single = load({ kind: "tokens", path: at("tokens/all.bin"), endOfText: 256, vocabSize: 257 }, "bytes")
    expect(single.documents).toEqual({ train: 10, valid: 2 })
    // every document keeps its closing end-of-text id
    expect(single.valid.filter((id) => id === 256).length).toBe(2)
    expect(single.tokens.train + single.tokens.valid).toBe(readFileSync(at("tokens/all.bin")).length / 2)
  })

  it("the split follows the seed: the same seed the same split, another seed another split", () => {
    expect([...seededValidationDocuments(12, 0.25, 7)]).toEqual([...seededValidationDocuments(12, 0.25, 7)])
    const seeds = new Set([0, 1, 2, 3, 4].map((s) => [...seededValidationDocuments(12, 0.25, s)].sort().join(",")))
    expect(seeds.size).toBeGreaterThan(1)
    const a = load({ kind: "text", path: at("text-folder"), splitSeed: 0 })
    clearCorpusCache()
    const b = load({ kind: "text", path: at("text-folder"), splitSeed: 5 })
    expect(b.files.valid).not.toEqual(a.files.valid)
    expect(b.hash).not.toBe(a.hash)
  })
})

describe("the content hash", () => {
  it("ignores where the data lies and changes with one byte of it", () => {
    const dir = scratch("corpus-moved-")
    cpSync(at("text-folder"), join(dir, "books"), { recursive: true })
    const original = load({ kind: "text", path: at("text-folder") })
    const moved = load({ kind: "text", path: join(dir, "books") })
    expect(moved.hash).toBe(original.hash)
    const first = join(dir, "books", "doc-01.txt")
    writeFileSync(first, readFileSync(first, "utf8").replace("river", "rivet"))
    clearCorpusCache()
    expect(load({ kind: "text", path: join(dir, "books") }).hash).not.toBe(original.hash)
  })

  it("changes with the declared options and the tokenizer", () => {
    const base = load({ kind: "jsonl", path: at("c4-style.jsonl") })
    expect(load({ kind: "jsonl", path: at("c4-style.jsonl") }, "bytes", 0.3).hash).not.toBe(base.hash)
    expect(load({ kind: "jsonl", path: at("c4-style.jsonl") }, "gpt2").hash).not.toBe(base.hash)
  })
})

describe("unusable sources are refused with the problem and the fix", () => {
  const dir = scratch("corpus-bad-")
  const file = (name: string, content: string | Uint8Array): string => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  it("missing", () => {
    expect(refusal({ kind: "text", path: join(dir, "nowhere") })).toMatch(
      /nowhere does not exist\. Fix the path .*relative to the suite file/
    )
    expect(refusal({ kind: "jsonl", path: join(dir, "none.jsonl") })).toMatch(/does not exist/)
    expect(refusal({ kind: "tokens", train: join(dir, "train.bin"), valid: join(dir, "val.bin"), vocabSize: 257 }, "none")).toMatch(
      /train\.bin does not exist/
    )
  })

  it("empty", () => {
    const folder = join(dir, "empty-folder")
    mkdirSync(folder)
    writeFileSync(join(folder, "notes.md"), "not a document")
    expect(refusal({ kind: "text", path: folder })).toMatch(/a folder without \.txt files \(1 other entries\)/)
    expect(refusal({ kind: "text", path: file("empty.txt", ""), separator: "\n\n" })).toMatch(/is empty/)
    expect(refusal({ kind: "jsonl", path: file("blank.jsonl", "\n\n") })).toMatch(/is empty|no non-empty document/)
    expect(refusal({ kind: "tokens", path: file("empty.bin", ""), endOfText: 0, vocabSize: 257 }, "none")).toMatch(
      /empty\.bin is empty; regenerate it/
    )
  })

  it("not text: a binary file, and a token file declared as text", () => {
    expect(refusal({ kind: "text", path: at("tokens/all.bin"), separator: "\n" })).toMatch(
      /is not text \(a NUL byte at offset 1: a binary file\)\. A token file is declared as kind "tokens"/
    )
    expect(refusal({ kind: "jsonl", path: at("tokens/all.bin") })).toMatch(/is not text/)
  })

  it("not UTF-8, with the offending byte and offset", () => {
    const latin1 = file("latin1.txt", Buffer.from("caf\xe9 au lait\n===\nna\xefve", "latin1"))
    expect(refusal({ kind: "text", path: latin1, separator: "===" })).toMatch(
      /is not UTF-8 \(invalid byte 0xe9 at offset 3\)\. Convert it first.*iconv/
    )
    expect(firstInvalidUtf8(Buffer.from("h\u00e9llo \u20ac \u{1F600}", "utf8"))).toBe(-1)
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1) // a UTF-16 surrogate
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xe2, 0x82]))).toBe(1) // truncated at the end
  })

  it("JSON Lines that are not JSON, or lack the text field", () => {
    expect(refusal({ kind: "jsonl", path: file("broken.jsonl", '{"text": "a"}\n{"text": \n') })).toMatch(
      /line 2 is not JSON\. Each line must be one JSON object/
    )
    expect(refusal({ kind: "jsonl", path: at("c4-style.jsonl"), field: "content" })).toMatch(
      /line 1 has no string field "content" \(it has: text, url, timestamp\).*set data\.corpus\.field/
    )
    expect(refusal({ kind: "jsonl", path: file("fake.jsonl.gz", '{"text":"a"}\n') })).toMatch(/named \.gz but is not gzip-compressed/)
    const gz = gzipSync(readFileSync(at("c4-style.jsonl")))
    expect(refusal({ kind: "jsonl", path: file("cut.jsonl.gz", gz.subarray(0, gz.length - 20)) })).toMatch(
      /does not decompress .*truncated or corrupt/
    )
  })

  it("token files: odd length, an id past the vocabulary, no end-of-text id", () => {
    expect(refusal({ kind: "tokens", path: file("odd.bin", Uint8Array.from([1, 0, 2])), endOfText: 0, vocabSize: 257 }, "none")).toMatch(
      /odd number of bytes \(3\)/
    )
    expect(refusal({ kind: "tokens", path: at("tokens/all.bin"), endOfText: 10, vocabSize: 200 }, "none")).toMatch(
      /is id 2\d\d, not below the declared vocabSize 200; declare the vocabulary size/
    )
    expect(refusal({ kind: "tokens", path: at("tokens/all.bin"), endOfText: 3, vocabSize: 257 }, "none")).toMatch(
      /end-of-text id 3 never occurs.*50256 for GPT-2/
    )
  })

  it("a single text file without a separator, and a corpus of one document", () => {
    expect(refusal({ kind: "text", path: at("text-file.txt") })).toMatch(/is one file: declare "separator"/)
    expect(refusal({ kind: "text", path: at("text-file.txt"), separator: "@@@" })).toMatch(/holds one document only.*needs at least two/)
  })

  it("too short for the training window or the longest evaluation", () => {
    const c = load({ kind: "text", path: at("text-folder") })
    expect(corpusLengthProblems(c, 32, 64)).toEqual([])
    const problems = corpusLengthProblems(c, 4096, 16_384)
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(
      /training split of text:text-folder has [\d,]+ tokens, fewer than one training window \(training\.length 4096 \+ 1\)/
    )
    expect(problems[1]).toMatch(
      /validation split .* fewer than the longest evaluation window \(16,384 \+ 1\); give it more data, raise data\.corpus\.validFraction/
    )
  })

  it("declarations: passkey without a tokenizer, a half-declared token layout, 'none' for text", () => {
    const tokens: CorpusSource = { kind: "tokens", train: "t.bin", valid: "v.bin", vocabSize: 257 }
    expect(sourceDeclarationProblems(tokens, "none", true).join("\n")).toMatch(/passkey prompts are text and need a tokenizer/)
    expect(sourceDeclarationProblems(tokens, "none", false)).toEqual([])
    expect(sourceDeclarationProblems({ kind: "tokens", train: "t.bin", vocabSize: 257 }, "none", false).join("\n")).toMatch(
      /needs both "train" .* and "valid"/
    )
    expect(sourceDeclarationProblems({ kind: "tokens", path: "a.bin", vocabSize: 257 }, "none", false).join("\n")).toMatch(
      /"path" with "endOfText"/
    )
    expect(sourceDeclarationProblems({ kind: "tokens", path: "a.bin", endOfText: 300, vocabSize: 257 }, "none", false).join("\n")).toMatch(
      /endOfText: 300 is not below vocabSize 257/
    )
    expect(sourceDeclarationProblems(tokens, "gpt2", false).join("\n")).toMatch(/smaller than GPT-2's 50,257 ids/)
    expect(sourceDeclarationProblems({ kind: "jsonl", path: "a.jsonl" }, "none", false).join("\n")).toMatch(
      /"none" only describes a pre-tokenized corpus/
    )
    expect(sourceDeclarationProblems("sotu", "bytes", true)).toEqual([])
  })
})
