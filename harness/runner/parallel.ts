/**
 * `--jobs N`: N worker processes, each running one deterministic shard of the plan (`--shard i/N`) against
 * the same ledger (WAL mode and a busy timeout serialise their writes). Each worker is a separate process
 * because the tensor engine (kernel overrides, wasm threads) is process-global.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { join, dirname } from "node:path"
import { Console, Effect, Layer, Option } from "effect"
import { attempt, Ledger } from "../../ledger/service.js"
import { LedgerStore } from "../../ledger/store.js"
import type { Suite } from "../../suites/schema.js"
import { CorpusService } from "./corpus-service.js"
import { resultsTable } from "./results-table.js"
import { planSuite } from "./run-suite.js"
import { UsageError } from "../errors.js"

interface ParallelFlags {
  readonly ledger: string
  readonly checkpoints: string
  readonly backend: Option.Option<string>
  readonly threads: Option.Option<number>
  readonly force: boolean
  readonly forceScale: boolean
  readonly seeds: Option.Option<string>
  readonly shard: Option.Option<string>
}

const binPath = (): string => join(dirname(fileURLToPath(import.meta.url)), "../../../bin/harness.js")

export const runInParallel = (options: {
  suite: Suite
  suitePath: string
  jobs: number
  seeds: ReadonlyArray<number> | undefined
  flags: ParallelFlags
}) =>
  Effect.gen(function* () {
    const f = options.flags
    if (Option.isSome(f.shard))
      return yield* new UsageError({
        message: "--jobs and --shard cannot be combined: --jobs N already splits the plan into N shards on this machine"
      })
    const common = ["--ledger", f.ledger, "--checkpoints", f.checkpoints]
    if (Option.isSome(f.backend)) common.push("--backend", f.backend.value)
    // N processes share the cores: one wasm thread each unless asked otherwise
    common.push("--threads", String(Option.getOrElse(f.threads, () => 1)))
    if (f.force) common.push("--force")
    if (f.forceScale) common.push("--force-scale")
    if (Option.isSome(f.seeds)) common.push("--seeds", f.seeds.value)
    // create and migrate the ledger once, here, before the workers start: N processes opening a file that does not
    // exist yet would race to create its schema (one of them failing), where opening an existing ledger is safe
    yield* attempt(() => LedgerStore.open(f.ledger).close())
    yield* Console.log(`starting ${options.jobs} worker processes, one shard each, all writing ${f.ledger}`)
    const codes = yield* Effect.promise(() =>
      Promise.all(
        Array.from(
          { length: options.jobs },
          (_, i) =>
            new Promise<number>((resolve) => {
              const child = spawn(
                process.execPath,
                [binPath(), "run", options.suitePath, "--shard", `${i + 1}/${options.jobs}`, ...common],
                {
                  stdio: ["ignore", "pipe", "pipe"]
                }
              )
              const prefix = (chunk: Buffer, stream: NodeJS.WriteStream) =>
                stream.write(
                  chunk
                    .toString()
                    .split("\n")
                    .filter((l) => l.length > 0)
                    .map((l) => `[worker ${i + 1}] ${l}\n`)
                    .join("")
                )
              child.stdout.on("data", (c: Buffer) => prefix(c, process.stdout))
              child.stderr.on("data", (c: Buffer) => prefix(c, process.stderr))
              child.on("close", (code) => resolve(code ?? 1))
            })
        )
      )
    )
    const failed = codes.filter((c) => c !== 0).length
    yield* Console.log(
      `${options.jobs - failed}/${options.jobs} workers finished cleanly${failed ? `; ${failed} exited with an error (see their lines above)` : ""}`
    )
    // one table for the whole suite, from the ledger the workers wrote
    const table = yield* Effect.gen(function* () {
      const jobs = yield* planSuite(options.suite, options.seeds ? { seeds: options.seeds } : {})
      return yield* resultsTable(jobs)
    }).pipe(Effect.provide(Layer.mergeAll(Ledger.layer(f.ledger), CorpusService.layer)))
    yield* Console.log(`\n${options.suite.name}: all shards, ledger ${f.ledger}\n\n${table}`)
    if (failed > 0) process.exitCode = 1
  })
