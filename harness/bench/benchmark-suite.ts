/**
 * Suites of kind "embedding-microbench" / "engine-bench": `harness run embedding-microbench` runs the timing
 * benchmark the suite describes (its embeddings, its lengths = lengthMultiples x training.length) and records it
 * in the ledger, like `harness bench`.
 */
import { Console, Effect } from "effect"
import type { Suite } from "../../suites/schema.js"
import { formatEngineBenchTable, runEngineBenchmark } from "../../models/engine/bench-engine.js"
import { describeEngine, initEngine } from "../../models/engine/index.js"
import { runEmbeddingMicrobench } from "./embedding-microbench.js"
import { recordBenchmark } from "./record-benchmark.js"

export const runBenchmarkSuite = (suite: Suite, options: { ledger: string; dryRun: boolean }) =>
  Effect.gen(function* () {
    const names = suite.embeddings.map((e) => (typeof e === "string" ? e : e.name))
    const lengths = suite.evaluation.lengthMultiples.map((m) => m * suite.training.length)
    if (options.dryRun) {
      return yield* Console.log(
        suite.kind === "engine-bench"
          ? `Plan for "${suite.name}": the engine benchmark (reference model per backend, each in its own process). Nothing was run (--dry-run).`
          : `Plan for "${suite.name}": forward + backward of ${names.length} embeddings (${names.join(", ")}) at T = ${lengths.join(", ")}, tinybench. Nothing was run (--dry-run).`
      )
    }
    if (suite.kind === "engine-bench") {
      const result = yield* Effect.promise(() => runEngineBenchmark({}))
      yield* Console.log(formatEngineBenchTable(result))
      const info = yield* Effect.promise(() => initEngine({ backend: "wasm" }))
      const { runId } = recordBenchmark(options.ledger, { suite: suite.name, name: "engine", config: { suite: suite.name }, engine: info }, result.metrics)
      return yield* Console.log(`\nrecorded ${result.metrics.length} metrics in ${options.ledger} (run ${runId})`)
    }
    const result = yield* Effect.promise(() =>
      runEmbeddingMicrobench({ methods: names, lengths, trainLength: suite.training.length, onProgress: (line) => process.stderr.write(`${line}\n`) })
    )
    yield* Console.log(result.table)
    const { runId } = recordBenchmark(options.ledger, { suite: suite.name, name: "embeddings", config: { methods: names, lengths }, engine: result.engine }, result.metrics)
    yield* Console.log(`\nrecorded ${result.metrics.length} metrics in ${options.ledger} (run ${runId}) on ${describeEngine(result.engine)}`)
  })
