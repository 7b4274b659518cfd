/**
 * A researcher's own corpus, declared in the suite file beside the shipped `sotu`:
 *
 *   - `text`: one `.txt` file whose documents are separated by a declared string, or a folder of `.txt` files,
 *     one document per file (sorted by file name; sub-folders are not read);
 *   - `jsonl`: JSON Lines with a text field (`"text"` by default: the layout of C4, FineWeb and Pile dumps), one
 *     document per line, plain or gzip-compressed (`.jsonl.gz`, detected by its magic bytes);
 *   - `tokens`: pre-tokenized uint16 little-endian ids (nanoGPT's `train.bin` / `val.bin`), with the vocabulary
 *     size declared; either nanoGPT's own split (`train` + `valid`, used as is) or one file (`path`) cut into
 *     documents after each declared end-of-text id.
 *
 * Every source is split into training and validation BY DOCUMENT with a seed (a Fisher-Yates shuffle of the
 * documents' order on the harness's seeded generator; the first round(n * f), at least one, are validation) and
 * hashed by CONTENT: the bytes of every file (decompressed), the names of the files inside a folder (they fix the
 * document order), the declared options, the split rule and the tokenizer. The location of the data is not
 * hashed, so a corpus moved to another folder or machine keeps its job keys.
 *
 * Every way a source can be unusable (missing, empty, binary, not UTF-8, a line that is not JSON, a token id past
 * the vocabulary, one document only) is refused with a DataError naming the file, the problem and the fix.
 */
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { basename, isAbsolute, join, resolve } from "node:path"
import { gunzipSync } from "node:zlib"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { DataError } from "./errors.js"

interface SplitOptions {
  /** fraction of documents held out for validation, in (0, 1); default 0.1 */
  readonly validFraction?: number
  /** seed of the document shuffle that picks the validation documents; default 0 */
  readonly splitSeed?: number
}

export interface TextSource extends SplitOptions {
  readonly kind: "text"
  /** a `.txt` file (needs `separator`) or a folder of `.txt` files (one document per file) */
  readonly path: string
  /** the text between two documents of one file, for example "\n\n\n" or "<|endoftext|>" */
  readonly separator?: string
}

export interface JsonLinesSource extends SplitOptions {
  readonly kind: "jsonl"
  /** a `.jsonl` file, or `.jsonl.gz` */
  readonly path: string
  /** the string field holding each document's text; default "text" */
  readonly field?: string
}

export interface TokenSource extends SplitOptions {
  readonly kind: "tokens"
  /** ids are < vocabSize (at most 65,536: the file holds uint16) */
  readonly vocabSize: number
  /** nanoGPT's split, used as is: its train.bin and val.bin */
  readonly train?: string
  readonly valid?: string
  /** or one .bin file, split into documents after each `endOfText` id */
  readonly path?: string
  readonly endOfText?: number
}

export type CorpusSource = TextSource | JsonLinesSource | TokenSource

export const DEFAULT_SPLIT_SEED = 0
export const DEFAULT_JSONL_FIELD = "text"
const SOURCE_HASH_FORMAT = "fope-harness/corpus-source/v1"

/** The source with every path made absolute against `baseDir` (the suite file's folder). */
export const resolveSourcePaths = (source: CorpusSource, baseDir: string): CorpusSource => {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p))
  if (source.kind !== "tokens") return { ...source, path: at(source.path) }
  return {
    ...source,
    ...(source.path !== undefined ? { path: at(source.path) } : {}),
    ...(source.train !== undefined ? { train: at(source.train) } : {}),
    ...(source.valid !== undefined ? { valid: at(source.valid) } : {})
  }
}

/** The source without where it lies: what a job key holds, so that moving the data keeps the keys. */
export const sourceWithoutLocation = (source: CorpusSource): Omit<CorpusSource, "path"> => {
  const { path: _path, ...rest } = source as TokenSource
  if (source.kind !== "tokens") return rest as Omit<CorpusSource, "path">
  const { train: _train, valid: _valid, ...tokenRest } = rest as TokenSource
  return {
    ...tokenRest,
    // which layout was declared is part of the experiment; the file names are not
    ...(source.train !== undefined ? { layout: "train+valid" } : { layout: "one file, end-of-text separated" })
  } as Omit<CorpusSource, "path">
}

/** A short name for tables and messages: the kind and the file or folder name. */
export const sourceLabel = (source: CorpusSource): string =>
  `${source.kind}:${basename(source.kind === "tokens" ? (source.path ?? source.train ?? "?") : source.path)}`

/**
 * Problems visible in the declaration alone (before any file is read), as `data.corpus...: problem. Fix` lines.
 * `tokenizer` is the suite's `data.tokenizer`; `usesPasskey` says whether a passkey task or mixture is asked for.
 */
export const sourceDeclarationProblems = (source: CorpusSource | "sotu", tokenizer: string, usesPasskey: boolean): string[] => {
  const problems: string[] = []
  if (source === "sotu" || source.kind !== "tokens") {
    if (tokenizer === "none")
      problems.push(
        `data.tokenizer: "none" only describes a pre-tokenized corpus (data.corpus.kind "tokens"); text needs "bytes" or "gpt2"`
      )
    return problems
  }
  const single = source.path !== undefined || source.endOfText !== undefined
  const pair = source.train !== undefined || source.valid !== undefined
  if (single && pair) {
    problems.push(
      `data.corpus: declare either "train" and "valid" (nanoGPT's split, used as is) or "path" and "endOfText" (one file split by document), not both`
    )
  } else if (pair && (source.train === undefined || source.valid === undefined)) {
    problems.push(`data.corpus: nanoGPT's split needs both "train" (train.bin) and "valid" (val.bin)`)
  } else if (!pair && (source.path === undefined || source.endOfText === undefined)) {
    problems.push(
      `data.corpus: a token corpus needs "train" and "valid" (nanoGPT's train.bin and val.bin), or "path" with "endOfText" ` +
        `(the id that ends each document, 50256 for GPT-2) to split one file by document`
    )
  }
  if (source.endOfText !== undefined && source.endOfText >= source.vocabSize) {
    problems.push(
      `data.corpus.endOfText: ${source.endOfText} is not below vocabSize ${source.vocabSize}; declare the vocabulary the file was made with`
    )
  }
  if (tokenizer === "gpt2" && source.vocabSize < 50257)
    problems.push(
      `data.corpus.vocabSize: ${source.vocabSize} is smaller than GPT-2's 50,257 ids; with data.tokenizer "gpt2" declare at least 50257 (nanoGPT pads to 50304)`
    )
  if (tokenizer === "bytes" && source.vocabSize < 256)
    problems.push(`data.corpus.vocabSize: ${source.vocabSize} is smaller than the 256 byte ids of data.tokenizer "bytes"`)
  if (usesPasskey && tokenizer === "none") {
    problems.push(
      `data.tokenizer: passkey prompts are text and need a tokenizer, but this token corpus declares "none". Declare the tokenizer its ids come ` +
        `from ("gpt2" for nanoGPT's GPT-2 files), or drop the passkey task and data.passkeyFraction`
    )
  }
  return problems
}

/** One document of a source: its name (file, line or index) and either its text or its token ids. */
export interface SourceDocument {
  readonly name: string
  readonly text?: string
  readonly ids?: Int32Array
}

/** A read source: its documents (or nanoGPT's two streams) and its content hash input. */
export interface ReadSource {
  readonly documents?: ReadonlyArray<SourceDocument>
  readonly presplit?: { readonly train: Int32Array; readonly valid: Int32Array }
  /** feeds the content hash: everything read, in order */
  readonly hashParts: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>
  readonly bytes: number
}

const where = (path: string): string => `data.corpus: ${path}`

const mustExist = (path: string, what: string): void => {
  if (!existsSync(path))
    throw new DataError(`${where(path)} does not exist. Fix the path to ${what} (paths are relative to the suite file)`)
}

/** The first byte offset where `bytes` is not well-formed UTF-8, or -1. */
export const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1
    if (need < 0 || i + need >= bytes.length) return i
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i
    // overlong 3-byte forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8
    if (need === 2 && ((b === 0xe0 && bytes[i + 1]! < 0xa0) || (b === 0xed && bytes[i + 1]! > 0x9f))) return i
    if (need === 3 && ((b === 0xf0 && bytes[i + 1]! < 0x90) || (b === 0xf4 && bytes[i + 1]! > 0x8f))) return i
    i += need + 1
  }
  return -1
}

/** UTF-8 text of a file's bytes, refused when binary (a NUL byte) or not UTF-8; a leading BOM is dropped. */
const textOf = (bytes: Uint8Array, path: string, hint: string): string => {
  const nul = bytes.indexOf(0)
  if (nul >= 0) throw new DataError(`${where(path)} is not text (a NUL byte at offset ${nul}: a binary file). ${hint}`)
  const bad = firstInvalidUtf8(bytes)
  if (bad >= 0) {
    throw new DataError(
      `${where(path)} is not UTF-8 (invalid byte 0x${bytes[bad]!.toString(16).padStart(2, "0")} at offset ${bad}). Convert it first, ` +
        `for example \`iconv -f latin1 -t utf-8 in.txt > out.txt\``
    )
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("utf8")
    .replace(/^\uFEFF/, "")
}

const trimDocument = (text: string): string => text.replace(/\r?\n$/, "")

const readTextSource = (source: TextSource): ReadSource => {
  mustExist(source.path, "a .txt file or a folder of .txt files")
  const binaryHint = `A token file is declared as kind "tokens"; JSON Lines as kind "jsonl"`
  if (statSync(source.path).isDirectory()) {
    const entries = readdirSync(source.path)
    const files = entries.filter((f) => f.endsWith(".txt") && statSync(join(source.path, f)).isFile()).sort()
    if (files.length === 0) {
      throw new DataError(
        `${where(source.path)} is a folder without .txt files (${entries.length} other entries). A folder corpus is one document per .txt file ` +
          `directly inside it; point "path" at the folder that holds them`
      )
    }
    const hashParts = files.map((f) => ({ name: f, bytes: readFileSync(join(source.path, f)) }))
    const documents = hashParts.map((p) => ({ name: p.name, text: trimDocument(textOf(p.bytes, join(source.path, p.name), binaryHint)) }))
    return { documents, hashParts, bytes: hashParts.reduce((s, p) => s + p.bytes.length, 0) }
  }
  if (source.separator === undefined) {
    throw new DataError(
      `${where(source.path)} is one file: declare "separator", the text between its documents (for example "\\n\\n\\n" or "<|endoftext|>"), ` +
        `or put one document per .txt file in a folder and point "path" at the folder`
    )
  }
  const bytes = readFileSync(source.path)
  const text = textOf(bytes, source.path, binaryHint)
  const documents = text.split(source.separator).map((t, i) => ({ name: `document ${i + 1}`, text: trimDocument(t) }))
  return { documents, hashParts: [{ name: "", bytes }], bytes: bytes.length }
}

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b

const readJsonLinesSource = (source: JsonLinesSource): ReadSource => {
  mustExist(source.path, "a .jsonl or .jsonl.gz file")
  if (statSync(source.path).isDirectory())
    throw new DataError(`${where(source.path)} is a folder; kind "jsonl" reads one .jsonl or .jsonl.gz file`)
  const raw = readFileSync(source.path)
  let bytes: Uint8Array = raw
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw)
    } catch (e) {
      throw new DataError(
        `${where(source.path)} starts like gzip but does not decompress (${(e as Error).message}): the file is truncated or corrupt; download it again`
      )
    }
  } else if (source.path.endsWith(".gz")) {
    throw new DataError(`${where(source.path)} is named .gz but is not gzip-compressed; rename it to .jsonl or compress it with gzip`)
  }
  const text = textOf(bytes, source.path, `JSON Lines are UTF-8 text, one JSON object per line`)
  const field = source.field ?? DEFAULT_JSONL_FIELD
  const documents: SourceDocument[] = []
  const problems: string[] = []
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "" || problems.length >= 3) return
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      problems.push(`line ${i + 1} is not JSON`)
      return
    }
    const value = typeof record === "object" && record !== null ? (record as Record<string, unknown>)[field] : undefined
    if (typeof value !== "string") {
      const keys = typeof record === "object" && record !== null ? Object.keys(record).join(", ") : typeof record
      problems.push(`line ${i + 1} has no string field "${field}" (it has: ${keys})`)
      return
    }
    documents.push({ name: `line ${i + 1}`, text: value })
  })
  if (problems.length > 0) {
    throw new DataError(
      `${where(source.path)}: ${problems.join("; ")}. Each line must be one JSON object with the document's text in "${field}"; set data.corpus.field to the field your files use`
    )
  }
  return { documents, hashParts: [{ name: "", bytes }], bytes: bytes.length }
}

/** uint16 little-endian ids (nanoGPT's np.uint16 .bin), each checked against the vocabulary. */
const readTokenFile = (path: string, vocabSize: number): { ids: Int32Array; bytes: Uint8Array } => {
  mustExist(path, "a uint16 token file (nanoGPT's train.bin / val.bin)")
  const bytes = readFileSync(path)
  if (bytes.length === 0) throw new DataError(`${where(path)} is empty; regenerate it (nanoGPT: python data/<dataset>/prepare.py)`)
  if (bytes.length % 2 !== 0)
    throw new DataError(
      `${where(path)} has an odd number of bytes (${bytes.length}): not a file of uint16 token ids. A text file is declared as kind "text"`
    )
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ids = new Int32Array(bytes.length / 2)
  for (let i = 0; i < ids.length; i++) {
    const id = view.getUint16(2 * i, true)
    if (id >= vocabSize) {
      throw new DataError(
        `${where(path)}: token ${i} is id ${id}, not below the declared vocabSize ${vocabSize}; declare the vocabulary size the file was made with`
      )
    }
    ids[i] = id
  }
  return { ids, bytes }
}

const readTokenSource = (source: TokenSource): ReadSource => {
  if (source.train !== undefined && source.valid !== undefined) {
    const train = readTokenFile(source.train, source.vocabSize)
    const valid = readTokenFile(source.valid, source.vocabSize)
    return {
      presplit: { train: train.ids, valid: valid.ids },
      hashParts: [
        { name: "train", bytes: train.bytes },
        { name: "valid", bytes: valid.bytes }
      ],
      bytes: train.bytes.length + valid.bytes.length
    }
  }
  const path = source.path!
  const eot = source.endOfText!
  const { ids, bytes } = readTokenFile(path, source.vocabSize)
  const documents: SourceDocument[] = []
  let start = 0
  for (let i = 0; i < ids.length; i++) {
    // each document keeps the end-of-text id that closes it, as nanoGPT writes them
    if (ids[i] === eot) documents.push({ name: `document ${documents.length + 1}`, ids: ids.subarray(start, i + 1) }), (start = i + 1)
  }
  if (start < ids.length) documents.push({ name: `document ${documents.length + 1}`, ids: ids.subarray(start) })
  if (documents.length < 2) {
    throw new DataError(
      `${where(path)}: the end-of-text id ${eot} ${documents.length === 1 && start === 0 ? "never occurs" : "occurs only at the end"}, so the file is one document and cannot be split by document. ` +
        `Declare the id that ends each document (50256 for GPT-2), or give nanoGPT's train.bin and val.bin as "train" and "valid"`
    )
  }
  return { documents, hashParts: [{ name: "", bytes }], bytes: bytes.length }
}

/** Reads a declared source and refuses what cannot be trained on. */
export const readSource = (source: CorpusSource): ReadSource => {
  const read =
    source.kind === "text" ? readTextSource(source) : source.kind === "jsonl" ? readJsonLinesSource(source) : readTokenSource(source)
  if (read.bytes === 0) throw new DataError(`${where(sourceLabel(source))} is empty; point data.corpus at the data you mean to train on`)
  return read
}

/** The split rule as text (it is hashed). */
export const seededSplitRule = (validFraction: number, seed: number): string =>
  `seeded-document-shuffle/v1: documents in source order; Fisher-Yates shuffle by sfc32 (seed ${seed}, purpose "corpus-split"); ` +
  `the first max(1, round(n*f)) shuffled documents are validation, the rest training, each split kept in source order; f=${validFraction}`

/** Which of n documents are validation, under the rule in `seededSplitRule`. */
export const seededValidationDocuments = (n: number, validFraction: number, seed: number): ReadonlySet<number> => {
  const order = Array.from({ length: n }, (_, i) => i)
  const rng = SeededRandom.create(seed, "corpus-split")
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return new Set(order.slice(0, Math.max(1, Math.round(n * validFraction))))
}

/** sha256 of what was read (file names inside a folder, byte lengths, bytes), the declared options (no paths), the rule and the tokenizer. */
export const sourceContentHash = (source: CorpusSource, read: ReadSource, rule: string, separator: string, tokenizerId: string): string => {
  const h = createHash("sha256")
  const field = (s: string): void => {
    h.update(s, "utf8")
    h.update("\0")
  }
  field(SOURCE_HASH_FORMAT)
  field(JSON.stringify(sourceWithoutLocation(source), Object.keys(sourceWithoutLocation(source)).sort()))
  field(String(read.hashParts.length))
  for (const p of read.hashParts) {
    field(p.name)
    field(String(p.bytes.length))
    h.update(p.bytes)
  }
  field(rule)
  field(JSON.stringify(separator))
  field(tokenizerId)
  return h.digest("hex")
}
