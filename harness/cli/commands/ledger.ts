/** `harness ledger verify | diff | export | import | merge`: the ledger's integrity, differences, formats and shards. */

import { Argument, Command, Flag } from "effect/cli"
import { diffCommand, exportCommand, importCommand, mergeCommand, verifyCommand } from "../../../ledger/commands.js"
import { emit } from "../command-result.js"
import { ledgerFlag, readLedgerFlag } from "../shared-flags.js"
import { viewCommand } from "./ledger-view.js"

const jsonFlag = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("machine-readable output"))

const verify = Command.make("verify", { ledger: readLedgerFlag, json: jsonFlag }, (f) => emit(verifyCommand(f.ledger), f.json)).pipe(
  Command.withDescription(
    "Recompute every record hash and the hash chain, and replay the chain against the tables. An edit made behind the harness's back " +
      "(an UPDATE in the sqlite3 shell, a deleted or reordered row) is detected and the first bad record named; exit 1. Prints the head hash: " +
      "keep it elsewhere to detect a truncated tail."
  )
)

const REF_HELP =
  "a run id (or unique prefix), a job key (or prefix), suite:<name>[@commit], <suite>@<commit>, latest, or another ledger file"

const diff = Command.make(
  "diff",
  {
    a: Argument.String("A").pipe(Argument.withDescription(REF_HELP)),
    b: Argument.String("B").pipe(Argument.withDescription(REF_HELP)),
    ledger: readLedgerFlag,
    all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("show unchanged metrics too (default: only what changed)")),
    json: jsonFlag
  },
  (f) => emit(diffCommand({ ledger: f.ledger, a: f.a, b: f.b, all: f.all }), f.json)
).pipe(
  Command.withDescription(
    "Explain what changed between A and B: per metric and evaluation length both values and the change, a paired-by-seed test for seed-replicated cells, " +
      "the configurations diffed field by field, and each difference attributed to configuration, code, environment or seed."
  ),
  Command.withExamples([
    { command: "harness ledger diff latest baseline.db", description: "the latest run against a committed baseline ledger" },
    { command: "harness ledger diff suite:quickstart@a1b2c3 suite:quickstart@d4e5f6", description: "a suite at two commits" }
  ])
)

const exportLedger = Command.make(
  "export",
  {
    ledger: readLedgerFlag,
    format: Flag.Literals("format", ["jsonl", "csv", "bmf"] as const).pipe(
      Flag.withDefault("jsonl" as const),
      Flag.withDescription(
        "jsonl: the hash-chained records, append-only, diffs well in git; csv: one metric per row; bmf: Bencher Metric Format JSON"
      )
    ),
    out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("write to this file (default: stdout)")),
    run: Flag.String("run").pipe(Flag.optional, Flag.withDescription("bmf only: one run instead of the whole ledger"))
  },
  (f) =>
    emit(
      exportCommand({
        ledger: f.ledger,
        format: f.format,
        ...(f.out._tag === "Some" ? { out: f.out.value } : {}),
        ...(f.run._tag === "Some" ? { run: f.run.value } : {})
      })
    )
).pipe(
  Command.withDescription("Export the ledger as JSON Lines (importable, chain verified on import), CSV, or Bencher Metric Format JSON.")
)

const importLedger = Command.make(
  "import",
  {
    from: Argument.String("export").pipe(Argument.withDescription("a JSON Lines export (harness ledger export --format jsonl)")),
    ledger: ledgerFlag
  },
  (f) => emit(importCommand({ ledger: f.ledger, from: f.from }))
).pipe(Command.withDescription("Import a JSON Lines export into a ledger: its chain is verified first, then written all or nothing."))

const merge = Command.make(
  "merge",
  {
    target: Argument.String("target").pipe(Argument.withDescription("the ledger to merge into (created when missing)")),
    sources: Argument.String("source").pipe(Argument.atLeast(1), Argument.withDescription("shard ledgers to merge"))
  },
  (f) => emit(mergeCommand({ target: f.target, sources: f.sources }))
).pipe(
  Command.withDescription(
    "Combine ledgers from shards (harness run --shard i/N): each source is verified, jobs de-duplicated by key, the target re-chained."
  ),
  Command.withExamples([{ command: "harness ledger merge all.db shard1.db shard2.db", description: "two shards into one ledger" }])
)

export const ledgerCommand = Command.make("ledger").pipe(
  Command.withDescription(
    "Work with the SQLite ledger: verify its hash chain, diff two runs, export / import, merge shards, view it as one HTML page."
  ),
  Command.withSubcommands([verify, diff, exportLedger, importLedger, merge, viewCommand])
)
