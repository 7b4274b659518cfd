/**
 * The benchmarks, run and recorded in the ledger: shared by `harness bench engine | embeddings` and by suites of
 * kind "engine-bench" / "embedding-microbench" (`harness run embedding-microbench` times the suite's embeddings at
 * its lengths = lengthMultiples x training.length).
 */
import { Console, Effect } from "effect"
import type { Suite } from "../../suites/schema.js"
import { formatEngineBenchTable } from "./engine/format.js"
import { runEngineBenchmark } from "./engine/run.js"
import type { EngineBenchOptions } from "./engine/variants.js"
import { describeEngine, initEngine } from "../../models/engine/index.js"
import { formatNumber } from "../table.js"
import { runEmbeddingMicrobench, type EmbeddingMicrobenchOptions } from "./embedding-microbench.js"
import { recordBenchmark } from "./record-benchmark.js"

export const runAndRecordEngineBench = (ledger: string, suite: string, options: EngineBenchOptions) =>
  Effect.gen(function* () {
    const result = yield* Effect.promise(() => runEngineBenchmark(options))
    yield* Console.log(formatEngineBenchTable(result))
    // the record's environment describes this (parent) process; each variant's engine is in its metrics' names
    const info = yield* Effect.promise(() => initEngine({ backend: "wasm" }))
    const { runId } = recordBenchmark(
      ledger,
      { suite, name: "engine", config: { ...options, log: undefined }, engine: info },
      result.metrics,
      {
        loadavgBefore: result.loadavgBefore,
        loadavgAfter: result.loadavgAfter
      }
    )
    yield* Console.log(`\nrecorded ${result.metrics.length} metrics in ${ledger} (run ${runId})`)
  })

export const runAndRecordEmbeddingBench = (ledger: string, suite: string, options: EmbeddingMicrobenchOptions) =>
  Effect.gen(function* () {
    const result = yield* Effect.promise(() =>
      runEmbeddingMicrobench({ ...options, onProgress: (line) => process.stderr.write(`${line}\n`) })
    )
    yield* Console.log(result.table)
    if (result.memory) {
      const m = result.memory
      yield* Console.log(
        `\nFoPE tables for ${m.length} tokens (${m.length / m.trainLength}x of ${m.trainLength}), all ${m.layers} layers of "${m.scale}": ` +
          `${formatNumber(m.megabytes)} MB, built in ${formatNumber(m.buildMs)} ms`
      )
    }
    const config = {
      methods: options.methods ?? "all",
      lengths: options.lengths ?? "default",
      quick: options.quick ?? false,
      rounds: options.rounds ?? (options.quick ? 1 : 3)
    }
    const { runId } = recordBenchmark(ledger, { suite, name: "embeddings", config, engine: result.engine }, result.metrics)
    yield* Console.log(`\nrecorded ${result.metrics.length} metrics in ${ledger} (run ${runId}) on ${describeEngine(result.engine)}`)
  })

export const runBenchmarkSuite = (suite: Suite, options: { ledger: string; dryRun: boolean }) =>
  Effect.gen(function* () {
    const methods = suite.embeddings.map((e) => (typeof e === "string" ? e : e.name))
    const lengths = suite.evaluation.lengthMultiples.map((m) => m * suite.training.length)
    if (options.dryRun) {
      return yield* Console.log(
        suite.kind === "engine-bench"
          ? `Plan for "${suite.name}": the engine benchmark (reference model per backend, each in its own process). Nothing was run (--dry-run).`
          : `Plan for "${suite.name}": forward + backward of ${methods.length} embeddings (${methods.join(", ")}) at T = ${lengths.join(", ")}, tinybench. Nothing was run (--dry-run).`
      )
    }
    return yield* suite.kind === "engine-bench"
      ? runAndRecordEngineBench(options.ledger, suite.name, {})
      : runAndRecordEmbeddingBench(options.ledger, suite.name, { methods, lengths, trainLength: suite.training.length })
  })
