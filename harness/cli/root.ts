/** The command tree, separate from main.ts so tests can run commands in-process (Command.runWith). */
import { Command } from "effect/cli"
import { listCommand } from "./commands/list.js"
import { runCommand } from "./commands/run.js"
import { evalCommand } from "./commands/eval.js"
import { ledgerCommand } from "./commands/ledger.js"
import { checkCliCommand } from "./commands/check.js"
import { reproduceCommand } from "./commands/reproduce.js"
import { reportCommand } from "./commands/report.js"
import { benchCommand } from "./commands/bench.js"
import { inspectCommand } from "./commands/inspect.js"
import { doctorCommand } from "./commands/doctor.js"
import { resultsCommand } from "./commands/results.js"
import { exportCommand } from "./commands/export.js"

export const VERSION = "0.1.0"

export const rootCommand = Command.make("harness").pipe(
  Command.withDescription(
    "fope-harness: train small decoder language models with different position embeddings (FoPE, RoPE, ALiBi, NoPE, ...), " +
      "evaluate them beyond their training length, and record every result, seeded and hash-verified, in a SQLite ledger. " +
      "Start with `harness run quickstart`; `harness list` shows what a suite can name."
  ),
  Command.withSubcommands([
    runCommand,
    listCommand,
    inspectCommand,
    evalCommand,
    checkCliCommand,
    ledgerCommand,
    reproduceCommand,
    reportCommand,
    resultsCommand,
    exportCommand,
    benchCommand,
    doctorCommand
  ])
)
