/**
 * Tokenizers: UTF-8 bytes (vocabulary 256, no dependencies) and GPT-2 BPE (r50k_base, vocabulary 50257,
 * from the `gpt-tokenizer` package, which ships its vocabulary: no download).
 *
 * `id` names the tokenizer and its version; it goes into every corpus and passkey hash, so changing the
 * tokenizer (or upgrading gpt-tokenizer) changes the data hash and therefore the job keys.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { DataError } from "./errors.js"

/** "none": the opaque ids of a pre-tokenized corpus whose tokenizer the harness does not have */
export type TokenizerName = "bytes" | "gpt2" | "none"

export interface Tokenizer {
  readonly name: TokenizerName
  readonly vocabSize: number
  /** name + version, hashed with the data ("utf-8-bytes/1", "gpt-tokenizer@4.0.0/r50k_base") */
  readonly id: string
  encode(text: string): Int32Array
  decode(ids: ArrayLike<number>): string
}

const utf8Encoder = new TextEncoder()
// fatal: false -> an invalid byte sequence (a model can emit one) decodes to U+FFFD instead of throwing
const utf8Decoder = new TextDecoder("utf-8", { fatal: false })

const bytesTokenizer: Tokenizer = {
  name: "bytes",
  vocabSize: 256,
  id: "utf-8-bytes/1",
  encode: (text) => Int32Array.from(utf8Encoder.encode(text)),
  decode: (ids) => {
    const bytes = new Uint8Array(ids.length)
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      if (!Number.isInteger(id) || id < 0 || id > 255) {
        throw new DataError(`byte tokenizer: id ${id} at index ${i} is not a byte (0..255); decode only ids of a byte-level model`)
      }
      bytes[i] = id
    }
    return utf8Decoder.decode(bytes)
  }
}

type R50k = typeof import("gpt-tokenizer/encoding/r50k_base")

const require = createRequire(import.meta.url)

/** gpt-tokenizer's version, read from its package.json (its `exports` map hides package.json from resolve). */
const gptTokenizerVersion = (): string => {
  let dir = dirname(require.resolve("gpt-tokenizer"))
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string }
      if (pkg.name === "gpt-tokenizer" && pkg.version) return pkg.version
    } catch {
      // not here: go up one level
    }
    dir = dirname(dir)
  }
  throw new DataError("cannot find gpt-tokenizer's package.json: reinstall dependencies (npm ci)")
}

let gpt2Cache: Tokenizer | undefined

/** GPT-2 BPE, loaded on first use (the vocabulary takes a moment to parse) through the package's CommonJS build
 * so that loading stays synchronous. */
const gpt2Tokenizer = (): Tokenizer => {
  if (gpt2Cache) return gpt2Cache
  let r50k: R50k
  try {
    r50k = require("gpt-tokenizer/encoding/r50k_base") as R50k
  } catch (cause) {
    throw new DataError(`the gpt2 tokenizer needs the package gpt-tokenizer (pinned in package.json): run npm ci (${String(cause)})`)
  }
  gpt2Cache = {
    name: "gpt2",
    vocabSize: r50k.vocabularySize,
    id: `gpt-tokenizer@${gptTokenizerVersion()}/r50k_base`,
    // Special-token text such as "<|endoftext|>" inside the corpus is encoded as plain text, never as the special id.
    encode: (text) => Int32Array.from(r50k.encode(text, { disallowedSpecial: new Set() })),
    decode: (ids) => r50k.decode(Array.from(ids))
  }
  return gpt2Cache
}

/**
 * The ids of a pre-tokenized corpus declared without a tokenizer: they train and evaluate perplexity as they are,
 * but no text can be encoded (a passkey prompt is text), and decoding shows the ids.
 */
export const opaqueTokenizer = (vocabSize: number): Tokenizer => ({
  name: "none",
  vocabSize,
  id: `opaque-ids/1/vocab-${vocabSize}`,
  encode: () => {
    throw new DataError(
      `this corpus is pre-tokenized without a tokenizer (data.tokenizer "none"): text cannot be encoded; declare the tokenizer its ids come from`
    )
  },
  decode: (ids) => Array.from(ids, (id) => `<${id}>`).join("")
})

/** The tokenizer of that name; an unknown name fails with the valid ones. */
export const getTokenizer = (name: TokenizerName): Tokenizer => {
  switch (name) {
    case "bytes":
      return bytesTokenizer
    case "gpt2":
      return gpt2Tokenizer()
    case "none":
      throw new DataError(
        `tokenizer "none" only describes a pre-tokenized corpus (data.corpus.kind "tokens"); text needs "bytes" or "gpt2"`
      )
    default:
      throw new DataError(`unknown tokenizer "${String(name)}". Valid tokenizers: bytes, gpt2`)
  }
}
