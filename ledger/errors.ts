/**
 * The synchronous store's errors: one class with a `code`, so the Effect service (service.ts) can map each
 * code to its tagged error and the CLI commands (commands.ts) to an exit code. Every message names the file,
 * the problem and what to do.
 */

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

export class LedgerStoreError extends Error {
  override readonly name = "LedgerStoreError"
  constructor(
    readonly code: LedgerErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

interface SqliteLikeError {
  readonly code?: string
  readonly message?: string
}

/**
 * Turns a better-sqlite3 error into a LedgerStoreError that says what to do; other errors pass through.
 * (better-sqlite3 throws `SqliteError` with `code` = "SQLITE_BUSY", "SQLITE_FULL", "SQLITE_NOTADB", ...)
 */
export const translateSqliteError = (error: unknown, file: string): unknown => {
  if (error instanceof LedgerStoreError) return error
  const code = (error as SqliteLikeError | null)?.code
  if (typeof code !== "string") return error
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new LedgerStoreError(
      "busy",
      file,
      `ledger ${file} stayed locked by another process past the busy timeout (${code}); ` +
        "wait for the other harness process to finish, or give this run its own ledger file and merge later (harness ledger merge)",
      { cause: error }
    )
  }
  if (code.startsWith("SQLITE_FULL")) {
    return new LedgerStoreError(
      "disk-full",
      file,
      `ledger ${file}: the disk is full (${code}); nothing was written (the transaction was rolled back). ` +
        "Free space on the disk holding this file and rerun: jobs already done are skipped",
      { cause: error }
    )
  }
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new LedgerStoreError(
      "corrupt",
      file,
      `ledger ${file} is not a readable SQLite database (${code}); ` +
        "point --ledger at a fope-harness ledger, or restore it from a JSON Lines export (harness ledger import)",
      { cause: error }
    )
  }
  return error
}
