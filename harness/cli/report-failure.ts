/**
 * Turns a failure into one clear message on stderr and a non-zero exit code. Domain errors (the harness's tagged
 * errors, harness/errors.ts, and the ledger's, ledger/errors.ts) print their message alone: it already names the
 * problem and the fix. CLI parse errors were already rendered by effect/cli. Anything else is a bug: print it with
 * its stack.
 */
import { Effect } from "effect"
import { CliError } from "effect/cli"
import { isLedgerError } from "../../ledger/errors.js"
import { isHarnessError } from "../errors.js"

/** Plain Error classes of the embeddings and the models whose message names the problem and the fix. */
const DOMAIN_ERROR_NAMES: ReadonlySet<string> = new Set(["EmbeddingError", "ScaleNeedsGpuError"])

export const reportFailure = (error: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    // 1 for every failure here; the ledger commands set their own (1 "no", 2 "could not run") through emit
    process.exitCode = 1
    // effect/cli parse errors (unknown flag, bad value) were already rendered with the command's help
    if (CliError.isCliError(error)) return
    if (isHarnessError(error) || isLedgerError(error) || (error instanceof Error && DOMAIN_ERROR_NAMES.has(error.name))) {
      process.stderr.write(`error: ${error.message}\n`)
      return
    }
    const e = error as { stack?: string } | undefined
    process.stderr.write(`internal error (please report it with the command you ran): ${e?.stack ?? String(error)}\n`)
  })
