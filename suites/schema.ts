/**
 * The suite file format. A suite is data: which position embeddings (with parameters), which model scales,
 * seeds, training, data, evaluation lengths and tasks, and per-metric regression thresholds. It is decoded
 * with `errors: "all"`, so a file with three mistakes gets three errors, each with its path inside the file.
 *
 * Names of embeddings and scales are plain strings here: this module imports nothing but effect (the
 * architecture keeps suites/ free of models/), and the harness checks them against the registries after
 * decoding, again reporting every problem at once with its path.
 */
import { Schema } from "effect"

/**
 * The documented range of every numeric field and list. Far beyond anything these scales train in a day, yet
 * each bound keeps a typo (1e12 steps, a learning rate of 1e308) from being planned, estimated or started; the
 * same bounds reach editors through suites/suite.schema.json.
 */
export const LIMITS = {
  /** training length L in tokens; evaluation goes up to 64 L */
  trainLength: { minimum: 8, maximum: 16_384 },
  steps: { minimum: 1, maximum: 1_000_000 },
  batchSize: { minimum: 1, maximum: 1_024 },
  /** AdamW's peak learning rate: above 1 training diverges at any scale here */
  learningRate: { exclusiveMinimum: 0, maximum: 1 },
  lengthMultiple: { minimum: 1, maximum: 64 },
  maxWindows: { minimum: 1, maximum: 10_000 },
  passkeyTrials: { minimum: 1, maximum: 10_000 },
  lossBuckets: { minimum: 1, maximum: 4_096 },
  /** seeds feed 32-bit generators: 2^32 would silently repeat seed 0 */
  seed: { minimum: 0, maximum: 0xffff_ffff },
  seeds: { maxItems: 1_000 },
  embeddings: { maxItems: 256 },
  scales: { maxItems: 16 },
  /** relative thresholds are fractions of the baseline (1 = 100%) */
  relativeThreshold: { minimum: 0, maximum: 100 },
  absoluteThreshold: { minimum: 0, maximum: 1e12 },
  /** jobs in one plan (embeddings x scales x seeds), checked before the plan is expanded */
  jobs: { maximum: 10_000 }
} as const

/** An integer in a range; two checks, so a value below and a value above each get their own message. */
const IntIn = (range: { readonly minimum: number; readonly maximum: number }) =>
  Schema.Number.check(
    Schema.isInt(),
    // for counts (minimum 1) "greater than 0" says what is wrong with a 0
    range.minimum === 1 ? Schema.isGreaterThan(0) : Schema.isGreaterThanOrEqualTo(range.minimum),
    Schema.isLessThanOrEqualTo(range.maximum)
  )
const Seed = IntIn(LIMITS.seed)
const PositiveNumber = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0))
const Fraction = Schema.Number.check(Schema.isFinite(), Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * Suite names end up in job names, ledger queries, report folders and file paths: letters, digits, '.', '_'
 * and '-', starting with a letter or digit (no '/', no '..' path, no newline or control character).
 */
export const SUITE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u
export const SuiteName = Schema.String.check(
  Schema.isPattern(SUITE_NAME_PATTERN, {
    message: "a suite name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it names folders and files)"
  })
)

/** An embedding to compare: a bare registry name, or a name with parameters and an optional display label. */
export const EmbeddingEntry = Schema.Union([
  Schema.NonEmptyString,
  Schema.Struct({
    name: Schema.NonEmptyString,
    params: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.Number, Schema.Boolean, Schema.String]))),
    label: Schema.optionalKey(Schema.NonEmptyString)
  })
])
export type EmbeddingEntry = typeof EmbeddingEntry.Type

/** Inference-time extensions of the rotary family, applied at evaluation (train at L, evaluate at s*L). */
export const Extension = Schema.Union([
  Schema.Struct({ method: Schema.Literals(["none", "pi", "ntk", "dynamic-ntk"]) }),
  Schema.Struct({ method: Schema.Literal("yarn"), temperature: Schema.optionalKey(Schema.Boolean) }),
  /** Llama 3 rope scaling: factor (default s = L'/L), low / high frequency factors (default 1 and 4, Llama 3.1's) */
  Schema.Struct({
    method: Schema.Literal("llama3"),
    factor: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(1))),
    lowFreqFactor: Schema.optionalKey(PositiveNumber),
    highFreqFactor: Schema.optionalKey(PositiveNumber)
  })
])
export type Extension = typeof Extension.Type

export const TASKS = ["perplexity", "loss-curve", "passkey", "spectrum", "synthetic"] as const

/** The synthetic length-generalization tasks (models/data/synthetic-tasks.ts; a test keeps the two lists equal). */
export const SYNTHETIC_TASK_NAMES = [
  "flip-flop",
  "mqar",
  "needle-multikey",
  "needle-multivalue",
  "variable-tracking",
  "copy",
  "reverse"
] as const
export const Task = Schema.Literals(TASKS)
export type Task = typeof Task.Type

export const BACKEND_CHOICES = ["auto", "tensorflow", "webgpu", "wasm", "cpu"] as const

export const Training = Schema.Struct({
  /** training sequence length L, in tokens */
  length: IntIn(LIMITS.trainLength),
  steps: IntIn(LIMITS.steps),
  batchSize: IntIn(LIMITS.batchSize),
  learningRate: Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(LIMITS.learningRate.maximum)),
  /** at most `steps` (checked after decoding) */
  warmupSteps: Schema.optionalKey(IntIn({ minimum: 0, maximum: LIMITS.steps.maximum })),
  /** checkpoint every N steps (and always on interruption) */
  checkpointEvery: Schema.optionalKey(IntIn(LIMITS.steps))
})
export type Training = typeof Training.Type

/** How a declared corpus is split into training and validation: by document, a seeded shuffle picks validation. */
const SplitFields = {
  /** fraction of documents held out for validation; default 0.1 */
  validFraction: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0), Schema.isLessThan(1))),
  /** seed of the document shuffle; default 0 */
  splitSeed: Schema.optionalKey(Seed)
}

/**
 * A researcher's own corpus (models/data/corpus-source.ts reads it). Paths are relative to the suite file; the
 * content, not the path, goes into the job keys.
 */
export const CorpusSource = Schema.Union([
  /** a .txt file (documents separated by `separator`) or a folder of .txt files, one document per file */
  Schema.Struct({
    kind: Schema.Literal("text"),
    path: Schema.NonEmptyString,
    separator: Schema.optionalKey(Schema.NonEmptyString),
    ...SplitFields
  }),
  /** JSON Lines, one document per line in a string field (default "text"), optionally gzip-compressed */
  Schema.Struct({
    kind: Schema.Literal("jsonl"),
    path: Schema.NonEmptyString,
    field: Schema.optionalKey(Schema.NonEmptyString),
    ...SplitFields
  }),
  /** uint16 token ids: nanoGPT's train.bin + val.bin as given, or one .bin split after each endOfText id */
  Schema.Struct({
    kind: Schema.Literal("tokens"),
    vocabSize: IntIn({ minimum: 2, maximum: 65_536 }),
    train: Schema.optionalKey(Schema.NonEmptyString),
    valid: Schema.optionalKey(Schema.NonEmptyString),
    path: Schema.optionalKey(Schema.NonEmptyString),
    endOfText: Schema.optionalKey(IntIn({ minimum: 0, maximum: 65_535 })),
    ...SplitFields
  })
])
export type CorpusSource = typeof CorpusSource.Type

export const Data = Schema.Struct({
  /** the shipped State of the Union corpus, or a declared source */
  corpus: Schema.Union([Schema.Literals(["sotu"]), CorpusSource]),
  /** "none": a token corpus whose tokenizer the harness does not have (no passkey then) */
  tokenizer: Schema.Literals(["bytes", "gpt2", "none"]),
  /** fraction of training rows replaced by synthetic passkey examples */
  passkeyFraction: Schema.optionalKey(Fraction),
  /**
   * train on synthetic tasks instead: every training row is one generated example of one of these tasks, drawn
   * uniformly (the corpus then serves only validation); evaluate with the task "synthetic" (accuracy by length)
   */
  synthetic: Schema.optionalKey(Schema.NonEmptyArray(Schema.Literals(SYNTHETIC_TASK_NAMES)))
})
export type Data = typeof Data.Type

export const Evaluation = Schema.Struct({
  /** evaluation lengths as multiples of the training length (1 = the training length itself) */
  lengthMultiples: Schema.NonEmptyArray(IntIn(LIMITS.lengthMultiple)).check(Schema.isMaxLength(LIMITS.lengthMultiple.maximum)),
  tasks: Schema.NonEmptyArray(Task),
  /** at most this many non-overlapping windows per length for perplexity */
  maxWindows: Schema.optionalKey(IntIn(LIMITS.maxWindows)),
  /** examples per length for passkey and for the synthetic tasks */
  passkeyTrials: Schema.optionalKey(IntIn(LIMITS.passkeyTrials)),
  lossBuckets: Schema.optionalKey(IntIn(LIMITS.lossBuckets)),
  /** evaluate each trained model under each of these (default: none) */
  extensions: Schema.optionalKey(Schema.NonEmptyArray(Extension))
})
export type Evaluation = typeof Evaluation.Type

/** A matrix cell pattern for include / exclude: every given field must match. */
export const CellPattern = Schema.Struct({
  embedding: Schema.optionalKey(Schema.NonEmptyString),
  scale: Schema.optionalKey(Schema.NonEmptyString),
  seed: Schema.optionalKey(Seed)
})
export type CellPattern = typeof CellPattern.Type

/**
 * A regression threshold for one metric: the change in the metric's bad direction that counts, as a
 * fraction of the baseline (`relative`) and/or in the metric's unit (`absolute`). A regression must be
 * significant AND beyond its threshold (asv's rule).
 */
export const Threshold = Schema.Struct({
  relative: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isBetween(LIMITS.relativeThreshold))),
  absolute: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isBetween(LIMITS.absoluteThreshold)))
})
export type Threshold = typeof Threshold.Type

export const Suite = Schema.Struct({
  /** editors: points at suites/suite.schema.json for completion and validation */
  $schema: Schema.optionalKey(Schema.String),
  name: SuiteName,
  description: Schema.String,
  /** "train" (default): train and evaluate; "embedding-microbench" / "engine-bench": timing suites */
  kind: Schema.optionalKey(Schema.Literals(["train", "embedding-microbench", "engine-bench"])),
  embeddings: Schema.NonEmptyArray(EmbeddingEntry).check(Schema.isMaxLength(LIMITS.embeddings.maxItems)),
  scales: Schema.NonEmptyArray(Schema.NonEmptyString).check(Schema.isMaxLength(LIMITS.scales.maxItems)),
  /** distinct (checked after decoding, with the plan's size) */
  seeds: Schema.NonEmptyArray(Seed).check(Schema.isMaxLength(LIMITS.seeds.maxItems, { message: `at most ${LIMITS.seeds.maxItems} seeds` })),
  data: Data,
  training: Training,
  evaluation: Evaluation,
  matrix: Schema.optionalKey(
    Schema.Struct({
      include: Schema.optionalKey(Schema.Array(CellPattern)),
      exclude: Schema.optionalKey(Schema.Array(CellPattern))
    })
  ),
  thresholds: Schema.optionalKey(Schema.Record(Schema.String, Threshold)),
  /** the backend this suite is meant for; `--backend` overrides it */
  backend: Schema.optionalKey(Schema.Literals(BACKEND_CHOICES)),
  /** the suite needs a GPU backend (paper scales); refused on a CPU backend unless forced */
  requiresGpu: Schema.optionalKey(Schema.Boolean)
})
export type Suite = typeof Suite.Type
