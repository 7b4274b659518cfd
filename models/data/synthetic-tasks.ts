/**
 * Synthetic length-generalization tasks on the byte vocabulary: seeded generators that make one example of
 * exactly `length` tokens and say which tokens are answers (a model is scored on predicting those from the tokens
 * before them, by argmax, with the true prefix). Every example starts with "^". Training rows are whole examples
 * at the training length (every token is trained on, as language modelling); evaluation makes fresh examples at
 * 1x..16x that length, so the answers lie further from what they depend on than anything seen in training.
 *
 *   flip-flop   Flip-flop language modelling (Liu et al. 2023, "Exposing Attention Glitches with Flip-Flop Language
 *               Modeling", FFL(p)): instruction / bit pairs "w1 i0 r1 ...": w writes its bit, i is ignored, r must
 *               repeat the last written bit. The first instruction is a write; then w and r each with probability
 *               (1 - p)/2 and i with p. Trained at p = 0.8 (the paper's FFL(0.8)); scored on reads at p = 0.8 and on
 *               the paper's out-of-distribution sparse (p = 0.98: reads far from their write) and dense (p = 0.1)
 *               sequences.
 *   mqar        Multi-query associative recall (Arora et al. 2023, "Zoology", MQAR): 8 key-value pairs (keys a-z,
 *               values A-Z, distinct keys) at the start, then each key queried once, in random order, at random
 *               places in "." filler; the value after each queried key is the answer.
 *   needle-multikey   RULER-style needles in random filler (Hsieh et al. 2024, "RULER"): filler of random a-z and
 *               spaces with 4 needles "#k=dddd;" (distinct one-letter keys, 4 random digits) at random places; the
 *               question "?k=" for one of them, answered by its 4 digits.
 *   needle-multivalue  one key with 3 needles of different values; "?k=" answered by the 3 values in order of
 *               appearance, joined by ",".
 *   variable-tracking  RULER's variable tracking: a chain "#A=d;" "#B=A;" "#C=B;" (one digit, three distinct
 *               upper-case names) and a distractor chain of two other names on another digit, in filler; the
 *               question "?d:" (the chain's digit) is answered by the chain's names in assignment order.
 *   copy / reverse  The algorithmic tasks of the randomized-positions paper (Ruoss et al. 2023): a random a-z
 *               string s, then "|", then s again (copy) or s reversed (reverse); the second half is the answer.
 *               |s| = floor((length - 2) / 2), so the string grows with the length.
 *
 * All randomness comes from the caller's SeededRandom, drawn in a fixed order per task (the order of the code).
 */
import type { SeededRandom } from "../../embeddings/seeded-random.js"
import { DataError } from "./errors.js"

export const SYNTHETIC_TASKS = [
  "flip-flop",
  "mqar",
  "needle-multikey",
  "needle-multivalue",
  "variable-tracking",
  "copy",
  "reverse"
] as const
export type SyntheticTask = (typeof SYNTHETIC_TASKS)[number]

export interface SyntheticExample {
  /** exactly the length asked, byte values */
  readonly tokens: Int32Array
  /** indices t (ascending) whose token is an answer, predicted from tokens[0 .. t-1] */
  readonly answers: Int32Array
}

/** An evaluation variant of a task: the metric it reports and how its examples are made. */
export interface SyntheticVariant {
  /** metric suffix: `accuracy.<variant>` */
  readonly variant: string
  readonly make: (rng: SeededRandom, length: number) => SyntheticExample
}

const code = (c: string): number => c.charCodeAt(0)
const LOWER = "abcdefghijklmnopqrstuvwxyz"
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
const DIGITS = "0123456789"

/** Builds an example token by token; `answer` marks the tokens to score. */
class Writer {
  readonly tokens: number[] = []
  readonly answers: number[] = []
  put(text: string, answer = false): void {
    for (const c of text) {
      if (answer) this.answers.push(this.tokens.length)
      this.tokens.push(code(c))
    }
  }
  get size(): number {
    return this.tokens.length
  }
  done(length: number, task: string): SyntheticExample {
    if (this.tokens.length !== length) throw new Error(`${task}: made ${this.tokens.length} tokens for length ${length} (a generator bug)`)
    return { tokens: Int32Array.from(this.tokens), answers: Int32Array.from(this.answers) }
  }
}

const tooShort = (task: string, length: number, minimum: number): DataError =>
  new DataError(`${task}: an example needs at least ${minimum} tokens, asked for ${length}; use a longer training length`)

const pick = (rng: SeededRandom, alphabet: string): string => alphabet[rng.int(alphabet.length)]!

/** k distinct letters of `alphabet`, in random order (partial Fisher-Yates). */
const distinct = (rng: SeededRandom, alphabet: string, k: number): string[] => {
  const pool = alphabet.split("")
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i)
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, k)
}

/** `count` sorted distinct slots of [0, n) (the places items go among n filler slots). */
const slots = (rng: SeededRandom, n: number, count: number): number[] => {
  const chosen = new Set<number>()
  while (chosen.size < count) chosen.add(rng.int(n))
  return [...chosen].sort((a, b) => a - b)
}

/** Flip-flop at ignore probability p. */
export const flipFlop =
  (p: number) =>
  (rng: SeededRandom, length: number): SyntheticExample => {
    if (length < 3) throw tooShort("flip-flop", length, 3)
    const w = new Writer()
    w.put("^")
    let last = ""
    let first = true
    while (w.size < length) {
      const u = rng.uniform()
      const op = first ? "w" : u < p ? "i" : u < p + (1 - p) / 2 ? "w" : "r"
      first = false
      w.put(op)
      if (w.size === length) break // no room for its bit
      if (op === "r") w.put(last, true)
      else {
        const bit = pick(rng, "01")
        w.put(bit)
        if (op === "w") last = bit
      }
    }
    return w.done(length, "flip-flop")
  }

const MQAR_PAIRS = 8

export const mqar = (rng: SeededRandom, length: number): SyntheticExample => {
  const minimum = 1 + 4 * MQAR_PAIRS
  if (length < minimum) throw tooShort("mqar", length, minimum)
  const keys = distinct(rng, LOWER, MQAR_PAIRS)
  const values = keys.map(() => pick(rng, UPPER))
  const order = distinct(rng, "01234567", MQAR_PAIRS).map(Number)
  const w = new Writer()
  w.put("^")
  keys.forEach((k, i) => w.put(k + values[i]!))
  const filler = length - w.size - 2 * MQAR_PAIRS
  const at = slots(rng, filler + 1, MQAR_PAIRS) // queries before filler slot at[q]; distinct slots, so queries never touch
  let q = 0
  for (let f = 0; f <= filler; f++) {
    while (q < MQAR_PAIRS && at[q] === f) {
      const i = order[q]!
      w.put(keys[i]!)
      w.put(values[i]!, true)
      q++
    }
    if (f < filler) w.put(".")
  }
  return w.done(length, "mqar")
}

/** Random a-z and spaces. */
const fillerText = (rng: SeededRandom, n: number): string => {
  let s = ""
  for (let i = 0; i < n; i++) s += rng.uniform() < 0.2 ? " " : pick(rng, LOWER)
  return s
}

/** Items placed at random among filler, then the question and its answer at the end. */
const needles = (
  task: string,
  rng: SeededRandom,
  length: number,
  items: ReadonlyArray<string>,
  question: string,
  answer: string
): SyntheticExample => {
  const fixed = 1 + items.reduce((s, x) => s + x.length, 0) + question.length + answer.length
  if (length < fixed + items.length) throw tooShort(task, length, fixed + items.length)
  const n = length - fixed
  const at = slots(rng, n + 1, items.length)
  const filler = fillerText(rng, n)
  const w = new Writer()
  w.put("^")
  let from = 0
  at.forEach((slot, i) => {
    w.put(filler.slice(from, slot))
    w.put(items[i]!)
    from = slot
  })
  w.put(filler.slice(from))
  w.put(question)
  w.put(answer, true)
  return w.done(length, task)
}

const digits = (rng: SeededRandom, n: number): string => Array.from({ length: n }, () => pick(rng, DIGITS)).join("")

export const needleMultiKey = (rng: SeededRandom, length: number): SyntheticExample => {
  const keys = distinct(rng, LOWER, 4)
  const values = keys.map(() => digits(rng, 4))
  const asked = rng.int(4)
  return needles(
    "needle-multikey",
    rng,
    length,
    keys.map((k, i) => `#${k}=${values[i]};`),
    `?${keys[asked]}=`,
    values[asked]!
  )
}

export const needleMultiValue = (rng: SeededRandom, length: number): SyntheticExample => {
  const key = pick(rng, LOWER)
  const values = [digits(rng, 4), digits(rng, 4), digits(rng, 4)]
  return needles(
    "needle-multivalue",
    rng,
    length,
    values.map((v) => `#${key}=${v};`),
    `?${key}=`,
    values.join(",")
  )
}

export const variableTracking = (rng: SeededRandom, length: number): SyntheticExample => {
  const names = distinct(rng, UPPER, 5)
  const [d1, d2] = distinct(rng, DIGITS, 2) as [string, string]
  const chain = [`#${names[0]}=${d1};`, `#${names[1]}=${names[0]};`, `#${names[2]}=${names[1]};`]
  const distractor = [`#${names[3]}=${d2};`, `#${names[4]}=${names[3]};`]
  // interleave the two chains at random, each in its own order, so every assignment follows the one it copies
  const items: string[] = []
  let a = 0
  let b = 0
  while (a < chain.length || b < distractor.length) {
    if (b >= distractor.length || (a < chain.length && rng.uniform() < 0.5)) items.push(chain[a++]!)
    else items.push(distractor[b++]!)
  }
  return needles("variable-tracking", rng, length, items, `?${d1}:`, names.slice(0, 3).join(""))
}

const copyOrReverse =
  (reverse: boolean) =>
  (rng: SeededRandom, length: number): SyntheticExample => {
    const task = reverse ? "reverse" : "copy"
    if (length < 4) throw tooShort(task, length, 4)
    const n = Math.floor((length - 2) / 2)
    const s = Array.from({ length: n }, () => pick(rng, LOWER))
    const w = new Writer()
    w.put("^")
    w.put(s.join(""))
    w.put("|")
    w.put((reverse ? [...s].reverse() : s).join(""), true)
    if (w.size < length) w.put(".") // odd remainder
    return w.done(length, task)
  }

/** The generator a task trains on. */
export const trainingGenerator = (task: SyntheticTask): ((rng: SeededRandom, length: number) => SyntheticExample) => {
  switch (task) {
    case "flip-flop":
      return flipFlop(0.8)
    case "mqar":
      return mqar
    case "needle-multikey":
      return needleMultiKey
    case "needle-multivalue":
      return needleMultiValue
    case "variable-tracking":
      return variableTracking
    case "copy":
      return copyOrReverse(false)
    case "reverse":
      return copyOrReverse(true)
  }
}

/** What a task is scored on: its own distribution, and flip-flop's sparse and dense ones too. */
export const evaluationVariants = (task: SyntheticTask): ReadonlyArray<SyntheticVariant> =>
  task === "flip-flop"
    ? [
        { variant: "flip-flop", make: flipFlop(0.8) },
        { variant: "flip-flop-sparse", make: flipFlop(0.98) },
        { variant: "flip-flop-dense", make: flipFlop(0.1) }
      ]
    : [{ variant: task, make: trainingGenerator(task) }]

/** Every task with its fixed parameters and what is scored, for `harness list`. */
export const SYNTHETIC_CATALOGUE: ReadonlyArray<{
  readonly name: SyntheticTask
  readonly parameters: string
  readonly description: string
}> = [
  {
    name: "flip-flop",
    parameters: "p=0.8 (eval also 0.98 sparse, 0.1 dense)",
    description: "write / ignore / read bits; a read repeats the last write (Liu et al. 2023)"
  },
  {
    name: "mqar",
    parameters: "pairs=8",
    description: "key-value pairs, then each key queried once in filler; the value is the answer (Zoology MQAR)"
  },
  { name: "needle-multikey", parameters: "needles=4 digits=4", description: "RULER: 4 keyed needles in random filler, one key asked" },
  {
    name: "needle-multivalue",
    parameters: "values=3 digits=4",
    description: "RULER: one key with 3 values in random filler, all asked in order"
  },
  {
    name: "variable-tracking",
    parameters: "chain=3 distractor=2",
    description: "RULER: which names hold the digit through a chain of copies"
  },
  { name: "copy", parameters: "|s|=floor((n-2)/2)", description: "repeat a random string (Ruoss et al. 2023)" },
  { name: "reverse", parameters: "|s|=floor((n-2)/2)", description: "reverse a random string (Ruoss et al. 2023)" }
]

/** Names the generators' definitions, hashed into a job's data hash (change a generator: change this). */
export const SYNTHETIC_PROTOCOL =
  "fope-harness/synthetic/v1: flip-flop p=0.8 (eval 0.8, 0.98, 0.1); mqar 8 pairs; needles 4 keys / 3 values / 3+2 chain; copy, reverse"
