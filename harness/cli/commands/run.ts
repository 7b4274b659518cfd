/** `harness run <suite>`: train and evaluate a suite's jobs that the ledger does not hold yet. */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { BACKEND_CHOICES } from "../../../suites/schema.js"
import { loadSuite } from "../../suite/load-suite.js"
import { parseShard } from "../../plan/expand.js"
import { Engine } from "../../runner/engine-service.js"
import { defaultThreads } from "../../../models/engine/index.js"
import { CorpusService } from "../../runner/corpus-service.js"
import { Ledger } from "../../../ledger/service.js"
import { Progress } from "../../runner/progress.js"
import { runSuite } from "../../runner/run-suite.js"
import { printPlan } from "../../runner/dry-run.js"
import { dryRunLedgerLayer } from "../../runner/dry-run-ledger.js"
import { runInParallel } from "../../runner/parallel.js"
import { UsageError } from "../../errors.js"
import { ledgerFlag, checkpointsFlag } from "../shared-flags.js"
import { runBenchmarkSuite } from "../../bench/benchmark-suite.js"

/** Parses `--seeds 0,1,2`. */
export const parseSeeds = (text: string): Effect.Effect<number[], UsageError> =>
  Effect.suspend(() => {
    const seeds = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(Number)
    if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
      return Effect.fail(
        new UsageError({ message: `--seeds "${text}" is not a comma-separated list of non-negative integers (for example --seeds 0,1,2)` })
      )
    }
    return Effect.succeed(seeds)
  })

export const runCommand = Command.make(
  "run",
  {
    suite: Argument.String("suite").pipe(Argument.withDescription("a shipped suite's name (harness list) or a path to a suite .json file")),
    ledger: ledgerFlag,
    checkpoints: checkpointsFlag,
    backend: Flag.Literals("backend", BACKEND_CHOICES).pipe(
      Flag.optional,
      Flag.withDescription("tensor backend; default: the suite's, else auto (native TensorFlow when installed, else wasm)")
    ),
    threads: Flag.Int("threads").pipe(
      Flag.optional,
      Flag.withDescription(
        `wasm threads: the matrix products run on this many (default here: ${defaultThreads()}; 1 on machines with 2 cores or fewer, ` +
          "where a second thread beside any other load slows a step; results are bitwise the same either way)"
      )
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDefault(false),
      Flag.withDescription("print the plan (jobs, keys, which are done, estimated time) and train nothing")
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDefault(false),
      Flag.withDescription("rerun jobs the ledger already holds as done (discarding their checkpoints)")
    ),
    forceScale: Flag.Boolean("force-scale").pipe(
      Flag.withDefault(false),
      Flag.withDescription("start GPU-only scales (60m, 180m, 1.2b) on a CPU backend anyway")
    ),
    seeds: Flag.String("seeds").pipe(Flag.optional, Flag.withDescription("override the suite's seeds, e.g. 0,1,2")),
    shard: Flag.String("shard").pipe(
      Flag.optional,
      Flag.withDescription(
        "run shard i of N (deterministic split of the plan, e.g. 1/2); merge the ledgers afterwards with `harness ledger merge`"
      )
    ),
    jobs: Flag.Int("jobs").pipe(
      Flag.withDefault(1),
      Flag.withDescription("run N jobs at once in separate processes (all writing the same ledger)")
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const { suite, path } = yield* loadSuite(flags.suite)
      const seedsText = Option.getOrUndefined(flags.seeds)
      const shardText = Option.getOrUndefined(flags.shard)
      const seeds = seedsText === undefined ? undefined : yield* parseSeeds(seedsText)
      const shard = shardText === undefined ? undefined : yield* parseShard(shardText)
      if (flags.jobs < 1) return yield* new UsageError({ message: `--jobs ${flags.jobs}: give at least 1` })
      const backend = Option.getOrElse(flags.backend, () => suite.backend ?? "auto")
      const threads = Option.getOrUndefined(flags.threads)
      if (suite.kind === "embedding-microbench" || suite.kind === "engine-bench") {
        // timing suites: the same benchmarks as `harness bench`, recorded in the same ledger
        return yield* runBenchmarkSuite(suite, { ledger: flags.ledger, dryRun: flags.dryRun })
      }
      if (flags.dryRun) {
        return yield* printPlan(suite, { seeds, shard, backend }).pipe(
          Effect.provide(Layer.mergeAll(dryRunLedgerLayer(flags.ledger), CorpusService.layer))
        )
      }
      if (flags.jobs > 1) {
        return yield* runInParallel({ suite, suitePath: path, jobs: flags.jobs, seeds, flags })
      }
      const summary = yield* runSuite({
        suite,
        force: flags.force,
        forceScale: flags.forceScale,
        checkpointRoot: flags.checkpoints,
        ...(seeds ? { seeds } : {}),
        ...(shard ? { shard } : {})
      }).pipe(
        Effect.provide(Layer.mergeAll(Ledger.layer(flags.ledger), CorpusService.layer, Engine.layer(backend, threads), Progress.layer))
      )
      yield* Console.log(
        `\n${suite.name}: ${summary.done} done, ${summary.skipped} skipped (already in the ledger), ${summary.failed} failed; ledger ${flags.ledger}, run #${summary.runId}\n`
      )
      yield* Console.log(summary.table)
      if (summary.failed > 0) process.exitCode = 1
    })
).pipe(
  Command.withDescription(
    "Train and evaluate every job of a suite (embeddings x scales x seeds) that the ledger does not already hold, " +
      "recording each job's metrics, seed, configuration and artifact hashes in one hash-chained transaction. " +
      "Ctrl-C checkpoints the running job; running the same command again resumes it."
  ),
  Command.withExamples([
    { command: "harness run quickstart", description: "RoPE vs FoPE vs NoPE in about 3 minutes on 2 CPU cores" },
    { command: "harness run length-generalization --dry-run", description: "the plan and its estimated time, without training" },
    { command: "harness run my-suite.json --shard 1/2 --ledger shard1.db", description: "half of a suite on this machine" }
  ])
)
