/**
 * A job: one cell of a suite's matrix, fully resolved (every default filled in), so that its canonical hash
 * identifies the experiment. Two jobs with the same key are the same experiment: the runner skips a key
 * the ledger already holds as done, unless forced.
 */
import type { DecoderConfig } from "../../models/decoder.js"
import type { TrainSpec } from "../../models/train/index.js"
import type { Extension, SYNTHETIC_TASK_NAMES, Task } from "../../suites/schema.js"
import type { CorpusSource } from "../../models/data/corpus-source.js"
import type { TokenizerName } from "../../models/data/tokenizer.js"

type SyntheticTaskName = (typeof SYNTHETIC_TASK_NAMES)[number]

export interface ResolvedEmbedding {
  readonly name: string
  /** registry parameters with defaults filled in */
  readonly params: Readonly<Record<string, unknown>>
  /** the name shown in tables and used in matrix patterns */
  readonly label: string
}

/** The decoder's configuration, plus the scale it came from. */
export interface ResolvedModel extends DecoderConfig {
  readonly scale: string
  readonly gpuOnly: boolean
}

/** The trainer's spec with every default filled in, and how often to checkpoint. */
export type ResolvedTraining = TrainSpec & { readonly checkpointEvery: number }

export interface ResolvedData {
  /** the shipped corpus, or a declared source with absolute paths (the paths are left out of the job key) */
  readonly corpus: "sotu" | CorpusSource
  readonly tokenizer: TokenizerName
  readonly validFraction: number
  readonly passkeyFraction: number
  /** the synthetic tasks the training rows are drawn from (absent: the corpus) */
  readonly synthetic?: ReadonlyArray<SyntheticTaskName>
  /** sha256 of the corpus files, split rule and tokenizer (and the passkey protocol when mixed in) */
  readonly contentHash: string
}

export interface ResolvedEvaluation {
  /** absolute evaluation lengths in tokens */
  readonly lengths: ReadonlyArray<number>
  readonly tasks: ReadonlyArray<Task>
  readonly maxWindows: number
  readonly passkeyTrials: number
  readonly lossBuckets: number
  readonly extensions: ReadonlyArray<Extension>
}

/** The part of a job that is hashed into its key. */
export interface JobConfig {
  readonly suite: string
  readonly embedding: ResolvedEmbedding
  readonly model: ResolvedModel
  readonly training: ResolvedTraining
  readonly data: ResolvedData
  readonly evaluation: ResolvedEvaluation
  readonly seed: number
}

export interface Job {
  /** `suite/embedding/scale/seed<N>`: stable across code versions, so baselines compare cell by cell */
  readonly name: string
  readonly cell: { readonly embedding: string; readonly scale: string; readonly seed: number }
  readonly config: JobConfig
  /** sha256 of canonical(config (which holds the data's content hash) + code version) */
  readonly key: string
}
