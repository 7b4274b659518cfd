/** Flags several commands share, defined once so their names and help stay the same everywhere. */
import { Flag } from "effect/cli"

export const DEFAULT_LEDGER = "harness.db"
export const DEFAULT_CHECKPOINTS = ".harness/checkpoints"

export const ledgerFlag = Flag.String("ledger").pipe(
  Flag.withDefault(DEFAULT_LEDGER),
  Flag.withDescription(`the SQLite ledger file (default ./${DEFAULT_LEDGER}; created when missing)`)
)

/** The ledger of a command that only reads it (verify, diff, export, check, report, results, view): never created. */
export const readLedgerFlag = Flag.String("ledger").pipe(
  Flag.withDefault(DEFAULT_LEDGER),
  Flag.withDescription(`the SQLite ledger file to read (default ./${DEFAULT_LEDGER}); it is never created or changed`)
)

export const checkpointsFlag = Flag.String("checkpoints").pipe(
  Flag.withDefault(DEFAULT_CHECKPOINTS),
  Flag.withDescription(
    `where training checkpoints are kept (default ./${DEFAULT_CHECKPOINTS}); a killed or interrupted job resumes from here`
  )
)
