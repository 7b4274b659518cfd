/**
 * Every error the ledger raises, as tagged errors (one class per kind, defined here only). The synchronous
 * store throws them; the Effect service (service.ts) puts the same values in its error channel; the CLI
 * commands (commands.ts) map each tag to an exit code (ledgerExitCode). Every message names the file, the
 * problem and what to do.
 */
import { Schema } from "effect"

/** The short name of each ledger error, as the JSON output of the ledger commands spells it (`error`). */
export type LedgerErrorCode =
  /** not a SQLite database, not a fope-harness ledger, or a damaged file */
  | "corrupt"
  /** the hash chain or a table disagrees with the chain */
  | "tampered"
  /** another process held the write lock past the busy timeout */
  | "busy"
  /** SQLITE_FULL: the disk (or the page limit) is full; the transaction was rolled back */
  | "disk-full"
  /** written by a newer harness */
  | "schema-too-new"
  /** a call that does not fit the ledger's state (unknown job, completing a finished job, ...) */
  | "invalid"

const fields = {
  /** the ledger file (or export) the error is about */
  file: Schema.String,
  message: Schema.String,
  /** the underlying error (a better-sqlite3 SqliteError, a projection failure), when there is one */
  cause: Schema.optionalKey(Schema.Unknown)
}

/** Not a SQLite database, not a ledger, or damaged. */
export class LedgerCorrupt extends Schema.TaggedError<LedgerCorrupt>()("LedgerCorrupt", fields) {
  get code(): "corrupt" {
    return "corrupt"
  }
}

/** The hash chain, or a table, disagrees with what was recorded. */
export class LedgerTampered extends Schema.TaggedError<LedgerTampered>()("LedgerTampered", fields) {
  get code(): "tampered" {
    return "tampered"
  }
}

/** Another process held the write lock past the busy timeout. */
export class LedgerBusy extends Schema.TaggedError<LedgerBusy>()("LedgerBusy", fields) {
  get code(): "busy" {
    return "busy"
  }
}

/** SQLITE_FULL: nothing was written (the transaction rolled back); free space and rerun. */
export class LedgerDiskFull extends Schema.TaggedError<LedgerDiskFull>()("LedgerDiskFull", fields) {
  get code(): "disk-full" {
    return "disk-full"
  }
}

/** Written by a newer harness. */
export class LedgerSchemaTooNew extends Schema.TaggedError<LedgerSchemaTooNew>()("LedgerSchemaTooNew", fields) {
  get code(): "schema-too-new" {
    return "schema-too-new"
  }
}

/** A call that does not fit the ledger's state (unknown job or run, completing a finished job, bad metric, bad reference). */
export class LedgerInvalid extends Schema.TaggedError<LedgerInvalid>()("LedgerInvalid", fields) {
  get code(): "invalid" {
    return "invalid"
  }
}

export type LedgerError = LedgerCorrupt | LedgerTampered | LedgerBusy | LedgerDiskFull | LedgerSchemaTooNew | LedgerInvalid

const LEDGER_ERRORS = {
  corrupt: LedgerCorrupt,
  tampered: LedgerTampered,
  busy: LedgerBusy,
  "disk-full": LedgerDiskFull,
  "schema-too-new": LedgerSchemaTooNew,
  invalid: LedgerInvalid
} as const

/** The ledger error of a kind, by its short name. */
export const ledgerError = (code: LedgerErrorCode, file: string, message: string, options?: { readonly cause?: unknown }): LedgerError =>
  new LEDGER_ERRORS[code]({ file, message, ...(options?.cause !== undefined ? { cause: options.cause } : {}) })

const LEDGER_TAGS: ReadonlySet<string> = new Set<LedgerError["_tag"]>([
  "LedgerCorrupt",
  "LedgerTampered",
  "LedgerBusy",
  "LedgerDiskFull",
  "LedgerSchemaTooNew",
  "LedgerInvalid"
])

export const isLedgerError = (e: unknown): e is LedgerError =>
  typeof e === "object" && e !== null && LEDGER_TAGS.has((e as { _tag?: unknown })._tag as string) && e instanceof Error

/**
 * The exit code of a ledger command that failed with `e`: 1 when the answer is "no" (the ledger or the export was
 * tampered with), 2 when the command could not run (bad file, bad reference, busy, disk full, newer schema).
 */
export const ledgerExitCode = (e: LedgerError): 1 | 2 => (e._tag === "LedgerTampered" ? 1 : 2)

/**
 * A chain record that does not fit the tables' state (projection.ts): the store reports it as LedgerInvalid,
 * verify as the reason a record is bad. Never leaves the ledger module.
 */
export class ProjectionError extends Schema.TaggedError<ProjectionError>()("ProjectionError", {
  message: Schema.String
}) {}

/**
 * A value canonical JSON cannot represent (canonical.ts): NaN, an infinity, undefined in an array, a class
 * instance. A bug upstream (a diverged result must be recorded as a failed job, not as a NaN metric), named by
 * its path inside the value.
 */
export class CanonicalJsonError extends Schema.TaggedError<CanonicalJsonError>()("CanonicalJsonError", {
  path: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `cannot canonicalise ${this.path}: ${this.problem}`
  }
}

interface SqliteLikeError {
  readonly code?: string
  readonly message?: string
}

/**
 * Turns a better-sqlite3 error into the ledger error that says what to do; other errors pass through.
 * (better-sqlite3 throws `SqliteError` with `code` = "SQLITE_BUSY", "SQLITE_FULL", "SQLITE_NOTADB", ...)
 */
export const translateSqliteError = (error: unknown, file: string): unknown => {
  if (isLedgerError(error)) return error
  const code = (error as SqliteLikeError | null)?.code
  if (typeof code !== "string") return error
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new LedgerBusy({
      file,
      message:
        `ledger ${file} stayed locked by another process past the busy timeout (${code}); ` +
        "wait for the other harness process to finish, or give this run its own ledger file and merge later (harness ledger merge)",
      cause: error
    })
  }
  if (code.startsWith("SQLITE_FULL")) {
    return new LedgerDiskFull({
      file,
      message:
        `ledger ${file}: the disk is full (${code}); nothing was written (the transaction was rolled back). ` +
        "Free space on the disk holding this file and rerun: jobs already done are skipped",
      cause: error
    })
  }
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new LedgerCorrupt({
      file,
      message:
        `ledger ${file} is not a readable SQLite database (${code}); ` +
        "point --ledger at a fope-harness ledger, or restore it from a JSON Lines export (harness ledger import)",
      cause: error
    })
  }
  return error
}
