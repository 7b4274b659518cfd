/**
 * The ledger's data shapes: what producers hand it (MetricRecord: the runner's metrics) and
 * what it hands back (rows). The ledger stores numbers and JSON; it knows nothing of models.
 */

/** One measured number. `length` is the evaluation length when the metric has one; `step` the training step. */
export interface MetricRecord {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly better: "lower" | "higher" | "none"
  readonly length?: number | null
  readonly step?: number | null
}

export interface ArtifactRecord {
  readonly path: string
  readonly sha256: string
  /** "checkpoint", "weights", "report", ... */
  readonly kind: string
}

/** How a job's numbers are expected to reproduce: bitwise on a deterministic backend, else within a tolerance. */
export type Reproducibility = { readonly mode: "bitwise" } | { readonly mode: "tolerance"; readonly tolerance: number }

export type JobStatus = "running" | "done" | "failed" | "interrupted"

export interface GitInfo {
  readonly commit: string | null
  /** sha256 of the uncommitted changes to the source folders; null when the tree is clean */
  readonly dirtyHash: string | null
}

export interface RunInfo {
  readonly suite: string
  readonly git: GitInfo
  /** node, tfjs and backend versions, threads, CPU model, OS, engine info: any JSON */
  readonly environment: unknown
  /** the code version that went into the job keys (content hash), when the caller has one */
  readonly codeVersion?: string | null
}

export interface RunRow {
  readonly id: string
  readonly suite: string
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly gitCommit: string | null
  readonly gitDirtyHash: string | null
  readonly codeVersion: string | null
  readonly environment: unknown
}

export interface StartJobInput {
  readonly runId: string
  readonly key: string
  readonly name: string
  readonly config: unknown
  readonly seed: number
  /** defaults to the run's suite */
  readonly suite?: string
}

export interface JobRow {
  readonly id: string
  readonly runId: string
  readonly key: string
  readonly suite: string
  readonly name: string
  readonly config: unknown
  readonly seed: number
  readonly status: JobStatus
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly timings: Readonly<Record<string, number>> | null
  readonly error: string | null
  readonly failureStep: number | null
  readonly reproducibility: Reproducibility | null
  readonly checkpoint: string | null
  readonly pid: number
  readonly host: string
}

export interface CompleteJobInput {
  readonly metrics: ReadonlyArray<MetricRecord>
  readonly artifacts?: ReadonlyArray<ArtifactRecord>
  /** wall-clock seconds per phase, e.g. { train: 812.4, eval: 95.1 } */
  readonly timings?: Readonly<Record<string, number>>
  readonly reproducibility?: Reproducibility
}

export interface MetricRow extends MetricRecord {
  readonly id: number
  readonly jobId: string
  readonly ordinal: number
  readonly length: number | null
  readonly step: number | null
}

export interface ArtifactRow extends ArtifactRecord {
  readonly id: number
  readonly jobId: string
}

/** The outcome of `harness reproduce`: a rerun compared with the job it reproduces. */
export interface CertificateInput {
  /** the job that was rerun */
  readonly jobId: string
  /** the rerun's own job, when it was recorded */
  readonly rerunJobId?: string | null
  readonly mode: "bitwise" | "tolerance"
  readonly tolerance: number | null
  readonly verdict: "certified" | "failed"
  /** largest |a - b| over the compared metrics */
  readonly maxAbsDiff: number
  readonly compared: number
  readonly details?: unknown
}

export interface CertificateRow extends CertificateInput {
  readonly id: string
  readonly createdAt: string
  readonly rerunJobId: string | null
  readonly details: unknown
}

export interface JobFilter {
  readonly runId?: string
  readonly key?: string
  readonly status?: JobStatus
  readonly name?: string
  readonly suite?: string
}

/** One link of the hash chain, as stored and exported. */
export interface ChainRecord {
  readonly seq: number
  readonly kind: RecordKind
  readonly at: string
  readonly data: unknown
  readonly prevHash: string
  readonly hash: string
}

export type RecordKind = "run.begin" | "run.finish" | "job.start" | "job.resume" | "job.done" | "job.fail" | "job.interrupt" | "certificate"

export interface VerifyProblem {
  /** "chain" for the record log itself, else the table whose rows disagree with the chain */
  readonly table: string
  /** the record's seq (chain) or the row's primary key */
  readonly id: string | number
  readonly reason: string
}

export interface VerifyReport {
  readonly ok: boolean
  readonly file: string
  /** chain records checked */
  readonly records: number
  /** hash of the last record: pin it somewhere else to detect truncation of the tail */
  readonly headHash: string
  readonly firstBad?: VerifyProblem
  /** up to 20 problems, first one first */
  readonly problems: ReadonlyArray<VerifyProblem>
}
