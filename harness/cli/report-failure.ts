/**
 * Turns a failure into one clear message on stderr and a non-zero exit code. Domain errors (suite, ledger,
 * usage, refused jobs) print their message alone: it already names the problem and the fix. CLI parse
 * errors were already rendered by effect/cli. Anything else is a bug: print it with its stack.
 */
import { Effect } from "effect"
import { CliError } from "effect/cli"

const DOMAIN_TAGS = new Set(["SuiteError", "UsageError", "JobRefused", "TrainingDiverged", "JobCrashed"])

export const reportFailure = (error: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    process.exitCode = 1
    // effect/cli parse errors (unknown flag, bad value) were already rendered with the command's help
    if (CliError.isCliError(error)) return
    const e = error as { _tag?: string; message?: string; name?: string; stack?: string }
    if (e && typeof e === "object" && typeof e._tag === "string") {
      if (DOMAIN_TAGS.has(e._tag) || e._tag.startsWith("Ledger")) {
        process.stderr.write(`error: ${e.message}\n`)
        return
      }
    }
    if (e instanceof Error && (e.name === "EmbeddingError" || e.name === "ScaleNeedsGpuError" || e.name === "LedgerStoreError")) {
      process.stderr.write(`error: ${e.message}\n`)
      return
    }
    process.stderr.write(`internal error (please report it with the command you ran): ${e?.stack ?? String(error)}\n`)
  })
