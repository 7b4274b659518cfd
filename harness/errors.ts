/**
 * The harness's domain errors. Each message names the problem and the fix; the CLI prints the message
 * alone (no stack) and exits non-zero.
 */
import { Schema } from "effect"

/** A malformed, unknown or inconsistent suite. */
export class SuiteError extends Schema.TaggedError<SuiteError>()("SuiteError", {
  message: Schema.String
}) {}

/** A job that cannot start here (GPU scale on a CPU backend, bad backend, ...). */
export class JobRefused extends Schema.TaggedError<JobRefused>()("JobRefused", {
  message: Schema.String
}) {}

/** A training run whose loss became NaN or infinite. */
export class TrainingDiverged extends Schema.TaggedError<TrainingDiverged>()("TrainingDiverged", {
  message: Schema.String,
  step: Schema.Number
}) {}

/**
 * A job whose computation threw (not a NaN loss): out of memory in the wasm heap, a checkpoint that cannot be
 * written. Recorded as failed in the ledger; the suite stops, because the engine may not be usable afterwards.
 */
export class JobCrashed extends Schema.TaggedError<JobCrashed>()("JobCrashed", {
  message: Schema.String,
  step: Schema.Number
}) {}

/** Anything else a user can fix: a bad flag value, a missing file. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

/** Every error above: what the harness's Effects fail with (beside the ledger's, ledger/errors.ts). */
export type HarnessError = SuiteError | JobRefused | TrainingDiverged | JobCrashed | UsageError

const HARNESS_TAGS: ReadonlySet<string> = new Set<HarnessError["_tag"]>([
  "SuiteError",
  "JobRefused",
  "TrainingDiverged",
  "JobCrashed",
  "UsageError"
])

export const isHarnessError = (e: unknown): e is HarnessError =>
  e instanceof Error && HARNESS_TAGS.has((e as { readonly _tag?: unknown })._tag as string)
