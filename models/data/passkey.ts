/**
 * Synthetic passkey retrieval (landmark attention, Mohtashami & Jaggi 2023; used by the FoPE paper, Hua et al.
 * 2025), in the landmark-attention prompt format. Lines joined by "\n":
 *
 *   There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.
 *   <filler[0 : a]>
 *   The pass key is {k}. Remember it. {k} is the pass key.
 *   <filler[a : n]>
 *   What is the pass key? The pass key is
 *
 * filler = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again." repeated,
 * joined by " " (landmark's `" ".join([garbage] * N)`). The filler is one continuous text cut in two by the key
 * line ("the rest of the filler"; landmark's script restarts the filler for the suffix, which only changes which
 * filler sentence comes first).
 *
 * Exact lengths in tokens: every segment (task, "\n", key line, question) is tokenized on its own and the filler
 * is cut in TOKENS of the tokenized filler stream, so a prompt is exactly `length` tokens for the byte tokenizer
 * and for GPT-2 BPE alike (for bytes, tokens = characters: the text is ASCII). n = length - fixed tokens.
 *
 * Draws, in this order, from the caller's SeededRandom: key k = 1 + int(50000) (uniform in [1, 50000]), then
 * the filler offset a = int(n + 1) (uniform in [0, n]).
 */
import { createHash } from "node:crypto"
import type { SeededRandom } from "../../embeddings/seeded-random.js"
import { DataError } from "./errors.js"
import type { Tokenizer } from "./tokenizer.js"

export const PASSKEY_PROTOCOL = {
  format: "fope-harness/passkey/v1",
  task: "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.",
  fillerUnit: "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.",
  fillerJoiner: " ",
  keyLine: "The pass key is {k}. Remember it. {k} is the pass key.",
  question: "What is the pass key? The pass key is",
  answer: " {k}.",
  lineJoiner: "\n",
  keyRange: [1, 50000] as const,
  layout: "task \\n filler[0:a] \\n keyLine \\n filler[a:n] \\n question; segments tokenized separately; filler cut in tokens",
  draws: "k = 1 + int(50000); a = int(n + 1)",
  decoding: "greedy, 10 tokens; correct when the first integer in the output equals k"
} as const

export const PASSKEY_KEY_MIN = PASSKEY_PROTOCOL.keyRange[0]
export const PASSKEY_KEY_MAX = PASSKEY_PROTOCOL.keyRange[1]

export const passkeyKeyLine = (k: number): string => PASSKEY_PROTOCOL.keyLine.replaceAll("{k}", String(k))
export const passkeyAnswer = (k: number): string => PASSKEY_PROTOCOL.answer.replaceAll("{k}", String(k))

export interface PasskeyExample {
  /** the prompt, exactly `length` tokens, ending with "... The pass key is" */
  readonly tokens: Int32Array
  readonly promptLength: number
  readonly key: number
  /** tokens of the expected continuation " {k}." */
  readonly answer: Int32Array
  /** filler tokens before the key line (a) and in all (n) */
  readonly fillerBefore: number
  readonly fillerTotal: number
  /** index of the key line's first token in `tokens` */
  readonly keyLineStart: number
}

interface Segments {
  readonly task: Int32Array
  readonly newline: Int32Array
  readonly question: Int32Array
  filler: Int32Array
  fillerUnits: number
  minimum?: { readonly prompt: number; readonly trainingRow: number }
}

const segmentCache = new Map<string, Segments>()

const segments = (tokenizer: Tokenizer): Segments => {
  let s = segmentCache.get(tokenizer.id)
  if (!s) {
    s = {
      task: tokenizer.encode(PASSKEY_PROTOCOL.task),
      newline: tokenizer.encode(PASSKEY_PROTOCOL.lineJoiner),
      question: tokenizer.encode(PASSKEY_PROTOCOL.question),
      filler: new Int32Array(0),
      fillerUnits: 0
    }
    segmentCache.set(tokenizer.id, s)
  }
  return s
}

/** At least `n` tokens of the filler stream (the repeated filler, tokenized as one text; grown and cached). */
const fillerTokens = (tokenizer: Tokenizer, n: number): Int32Array => {
  const s = segments(tokenizer)
  if (s.filler.length >= n) return s.filler
  let units = Math.max(16, s.fillerUnits * 2)
  for (;;) {
    const text = Array.from({ length: units }, () => PASSKEY_PROTOCOL.fillerUnit).join(PASSKEY_PROTOCOL.fillerJoiner)
    const tokens = tokenizer.encode(text)
    // The last unit may tokenize differently at the text's end (BPE): keep only whole, interior units' worth.
    if (tokens.length - 64 >= n) {
      s.filler = tokens.slice(0, tokens.length - 64)
      s.fillerUnits = units
      return s.filler
    }
    units *= 2
  }
}

const fixedTokens = (s: Segments, keyLine: Int32Array): number => s.task.length + keyLine.length + s.question.length + 4 * s.newline.length

/**
 * The smallest length that holds the fixed text for EVERY key: `prompt` for `makePasskeyExample`, `trainingRow`
 * (prompt plus answer, minus the one token a row has beyond its length) for `makePasskeyTrainingRow`.
 * Byte tokenizer: 250 and 256 tokens (5-digit keys).
 */
export const passkeyMinimumLength = (tokenizer: Tokenizer): { readonly prompt: number; readonly trainingRow: number } => {
  const s = segments(tokenizer)
  if (!s.minimum) {
    let prompt = 0
    let row = 0
    // Token counts of numbers are not monotone under BPE: scan every key (fast: two short encodes each).
    const keys: number[] = []
    if (tokenizer.name === "bytes")
      keys.push(PASSKEY_KEY_MAX) // bytes: the count depends only on the digit count
    else for (let k = PASSKEY_KEY_MIN; k <= PASSKEY_KEY_MAX; k++) keys.push(k)
    for (const k of keys) {
      const fixed = fixedTokens(s, tokenizer.encode(passkeyKeyLine(k)))
      prompt = Math.max(prompt, fixed)
      row = Math.max(row, fixed + tokenizer.encode(passkeyAnswer(k)).length - 1)
    }
    s.minimum = { prompt, trainingRow: row }
  }
  return s.minimum
}

const assemble = (rng: SeededRandom, key: number, promptLength: number, tokenizer: Tokenizer, minimum: number, what: string) => {
  const s = segments(tokenizer)
  const keyLine = tokenizer.encode(passkeyKeyLine(key))
  const n = promptLength - fixedTokens(s, keyLine)
  if (n < 0) {
    throw new DataError(
      `${what}: length too small for the passkey prompt's fixed text; the ${tokenizer.name} tokenizer needs at least ` +
        `${minimum} tokens (task sentence, key line and question): evaluate or mix passkey at a length >= ${minimum}`
    )
  }
  const a = rng.int(n + 1)
  const filler = fillerTokens(tokenizer, n)
  const tokens = new Int32Array(promptLength)
  let at = 0
  const put = (t: Int32Array): void => {
    tokens.set(t, at)
    at += t.length
  }
  put(s.task)
  put(s.newline)
  put(filler.subarray(0, a))
  put(s.newline)
  const keyLineStart = at
  put(keyLine)
  put(s.newline)
  put(filler.subarray(a, n))
  put(s.newline)
  put(s.question)
  if (at !== promptLength) throw new Error(`passkey assembly bug: built ${at} tokens, wanted ${promptLength}`)
  return { tokens, fillerBefore: a, fillerTotal: n, keyLineStart }
}

const checkLength = (length: number, what: string): void => {
  if (!Number.isInteger(length) || length <= 0) throw new DataError(`${what}: length must be a positive integer, got ${length}`)
}

const drawKey = (rng: SeededRandom): number => PASSKEY_KEY_MIN + rng.int(PASSKEY_KEY_MAX - PASSKEY_KEY_MIN + 1)

/** A passkey prompt of exactly `length` tokens (the evaluation form: the model must continue with " {k}."). */
export const makePasskeyExample = (rng: SeededRandom, length: number, tokenizer: Tokenizer): PasskeyExample => {
  checkLength(length, "makePasskeyExample")
  const minimum = passkeyMinimumLength(tokenizer).prompt
  if (length < minimum) {
    throw new DataError(
      `makePasskeyExample: length ${length} is too small for the passkey prompt; the ${tokenizer.name} tokenizer needs at least ` +
        `${minimum} tokens (task sentence, key line and question): evaluate passkey at a length >= ${minimum}`
    )
  }
  const key = drawKey(rng)
  const built = assemble(rng, key, length, tokenizer, minimum, "makePasskeyExample")
  return { ...built, promptLength: length, key, answer: tokenizer.encode(passkeyAnswer(key)) }
}

/**
 * A training row of `length + 1` tokens (the shape `tokenLosses` takes for `length` predictions): a prompt of
 * `length + 1 - |answer|` tokens followed by the answer " {k}.", so next-token training teaches retrieval.
 */
export const makePasskeyTrainingRow = (rng: SeededRandom, length: number, tokenizer: Tokenizer): Int32Array => {
  checkLength(length, "makePasskeyTrainingRow")
  const minimum = passkeyMinimumLength(tokenizer).trainingRow
  if (length < minimum) {
    throw new DataError(
      `makePasskeyTrainingRow: length ${length} is too small for a passkey row; the ${tokenizer.name} tokenizer needs a ` +
        `training length of at least ${minimum} tokens: mix passkey only into training at a length >= ${minimum}`
    )
  }
  const key = drawKey(rng)
  const answer = tokenizer.encode(passkeyAnswer(key))
  const built = assemble(rng, key, length + 1 - answer.length, tokenizer, minimum, "makePasskeyTrainingRow")
  const row = new Int32Array(length + 1)
  row.set(built.tokens, 0)
  row.set(answer, built.tokens.length)
  return row
}

/** sha256 of the protocol text (and of the tokenizer id when given): changes whenever the prompts could. */
export const passkeyProtocolHash = (tokenizer?: Tokenizer): string =>
  createHash("sha256")
    .update(JSON.stringify({ protocol: PASSKEY_PROTOCOL, tokenizer: tokenizer?.id ?? null }))
    .digest("hex")

/** The protocol hash without a tokenizer (the tokenizer is already in the corpus hash). */
export const PASSKEY_PROTOCOL_HASH: string = passkeyProtocolHash()

/**
 * A passkey mixture for training: `fraction` of the rows are passkey rows. Its `hash` (protocol + tokenizer +
 * fraction) goes into the ledger beside the corpus hash; `make` matches the Trainer's mixer interface.
 */
export const passkeyMixture = (
  tokenizer: Tokenizer,
  fraction: number
): { readonly fraction: number; readonly hash: string; make(rng: SeededRandom, length: number): Int32Array } => {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new DataError(`passkey mixture fraction must be in [0, 1], got ${fraction}`)
  }
  const hash = createHash("sha256")
    .update(`fope-harness/passkey-mixture/v1\0${passkeyProtocolHash(tokenizer)}\0${fraction}`)
    .digest("hex")
  return { fraction, hash, make: (rng, length) => makePasskeyTrainingRow(rng, length, tokenizer) }
}
