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

const PositiveInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThan(0))
const NonNegativeInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))
const PositiveNumber = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0))
const Fraction = Schema.Number.check(Schema.isFinite(), Schema.isBetween({ minimum: 0, maximum: 1 }))

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

export const TASKS = ["perplexity", "loss-curve", "passkey", "spectrum"] as const
export const Task = Schema.Literals(TASKS)
export type Task = typeof Task.Type

export const BACKEND_CHOICES = ["auto", "tensorflow", "webgpu", "wasm", "cpu"] as const

export const Training = Schema.Struct({
  /** training sequence length L, in tokens */
  length: Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(8)),
  steps: PositiveInt,
  batchSize: PositiveInt,
  learningRate: PositiveNumber,
  warmupSteps: Schema.optionalKey(NonNegativeInt),
  /** checkpoint every N steps (and always on interruption) */
  checkpointEvery: Schema.optionalKey(PositiveInt)
})
export type Training = typeof Training.Type

export const Data = Schema.Struct({
  corpus: Schema.Literals(["sotu"]),
  tokenizer: Schema.Literals(["bytes", "gpt2"]),
  /** fraction of training rows replaced by synthetic passkey examples */
  passkeyFraction: Schema.optionalKey(Fraction)
})
export type Data = typeof Data.Type

export const Evaluation = Schema.Struct({
  /** evaluation lengths as multiples of the training length (1 = the training length itself) */
  lengthMultiples: Schema.NonEmptyArray(Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 64 }))),
  tasks: Schema.NonEmptyArray(Task),
  /** at most this many non-overlapping windows per length for perplexity */
  maxWindows: Schema.optionalKey(PositiveInt),
  passkeyTrials: Schema.optionalKey(PositiveInt),
  lossBuckets: Schema.optionalKey(PositiveInt),
  /** evaluate each trained model under each of these (default: none) */
  extensions: Schema.optionalKey(Schema.NonEmptyArray(Extension))
})
export type Evaluation = typeof Evaluation.Type

/** A matrix cell pattern for include / exclude: every given field must match. */
export const CellPattern = Schema.Struct({
  embedding: Schema.optionalKey(Schema.NonEmptyString),
  scale: Schema.optionalKey(Schema.NonEmptyString),
  seed: Schema.optionalKey(NonNegativeInt)
})
export type CellPattern = typeof CellPattern.Type

/**
 * A regression threshold for one metric: the change in the metric's bad direction that counts, as a
 * fraction of the baseline (`relative`) and/or in the metric's unit (`absolute`). A regression must be
 * significant AND beyond its threshold (asv's rule).
 */
export const Threshold = Schema.Struct({
  relative: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0))),
  absolute: Schema.optionalKey(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0)))
})
export type Threshold = typeof Threshold.Type

export const Suite = Schema.Struct({
  /** editors: points at suites/suite.schema.json for completion and validation */
  $schema: Schema.optionalKey(Schema.String),
  name: Schema.NonEmptyString,
  description: Schema.String,
  /** "train" (default): train and evaluate; "embedding-microbench" / "engine-bench": timing suites */
  kind: Schema.optionalKey(Schema.Literals(["train", "embedding-microbench", "engine-bench"])),
  embeddings: Schema.NonEmptyArray(EmbeddingEntry),
  scales: Schema.NonEmptyArray(Schema.NonEmptyString),
  seeds: Schema.NonEmptyArray(NonNegativeInt),
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
