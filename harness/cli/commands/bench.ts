/**
 * `harness bench engine | embeddings | ledger`: speed and memory, measured by benchmarks, reported as ratios
 * against a baseline measured in the same run, and recorded in the ledger (never as timed test assertions).
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { initEngine } from "../../../models/engine/index.js"
import { runLedgerBenchmark } from "../../../ledger/bench.js"
import { runAndRecordEmbeddingBench, runAndRecordEngineBench } from "../../bench/benchmark-suite.js"
import { recordBenchmark } from "../../bench/record-benchmark.js"
import { renderTable, formatNumber } from "../../table.js"
import { ledgerFlag } from "../shared-flags.js"

const quickFlag = Flag.Boolean("quick").pipe(
  Flag.withDefault(false),
  Flag.withDescription("shorter timing windows (noisier; for a smoke check)")
)

const engine = Command.make(
  "engine",
  {
    ledger: ledgerFlag,
    quick: quickFlag,
    withTorch: Flag.Boolean("with-torch").pipe(
      Flag.withDefault(false),
      Flag.withDescription(
        "also train the reference model with PyTorch on this machine (needs python3 + torch: `apt-get install python3-torch`; installs nothing)"
      )
    ),
    backends: Flag.String("backends").pipe(
      Flag.optional,
      Flag.withDescription(
        "comma-separated variants or groups (default: all: cpu, wasm stock, wasm tuned 1 and 2 threads, tensorflow when present, webgpu when Dawn finds an adapter)"
      )
    ),
    rounds: Flag.Int("rounds").pipe(
      Flag.withDefault(3),
      Flag.withDescription(
        "with --with-torch: paired rounds of (fastest tfjs variant, PyTorch) back to back; the tfjs/PyTorch ratios are their medians"
      )
    ),
    steps: Flag.Int("steps").pipe(
      Flag.optional,
      Flag.withDescription("timed training steps of the fast variants (default 10, 3 with --quick; the slow variants take a fraction)")
    )
  },
  (f) =>
    runAndRecordEngineBench(f.ledger, "bench-engine", {
      quick: f.quick,
      withTorch: f.withTorch,
      rounds: f.rounds,
      ...(f.steps._tag === "Some" ? { steps: f.steps.value } : {}),
      ...(f.backends._tag === "Some" ? { backends: f.backends.value.split(",") } : {})
    })
).pipe(
  Command.withDescription(
    "Training and evaluation tokens/s of the reference model (2 layers, d 128, 4 heads, batch 8 x 128) and of the harness's decoder at the CPU scales (nano, micro, mini) " +
      "per backend (cpu, wasm stock, wasm tuned 1 and 2 threads), matmul GFLOP/s, peak RSS and machine load, each variant in its own process; ratios from the same run. " +
      "--with-torch adds PyTorch as the peer, measured back to back with the fastest tfjs variant in --rounds paired rounds."
  )
)

const embeddings = Command.make(
  "embeddings",
  {
    ledger: ledgerFlag,
    quick: quickFlag,
    lengths: Flag.String("lengths").pipe(Flag.withDefault("128,512,2048"), Flag.withDescription("sequence lengths T")),
    methods: Flag.String("methods").pipe(Flag.optional, Flag.withDescription("comma-separated embeddings (default: all)")),
    rounds: Flag.Int("rounds").pipe(
      Flag.optional,
      Flag.withDescription(
        "interleaved rounds (default 3, 1 with --quick): every method is timed once per round; each cell is the median of its rounds"
      )
    )
  },
  (f) =>
    runAndRecordEmbeddingBench(f.ledger, "embedding-microbench", {
      quick: f.quick,
      ...(f.rounds._tag === "Some" ? { rounds: f.rounds.value } : {}),
      lengths: f.lengths.split(",").map(Number),
      ...(f.methods._tag === "Some" ? { methods: f.methods.value.split(",") } : {})
    })
).pipe(
  Command.withDescription(
    "Forward + backward time of every position embedding at T = 128, 512, 2048 (tinybench, in interleaved rounds), every method's time ratio to RoPE from the same run, and FoPE's table memory at 16x."
  )
)

const ledger = Command.make(
  "ledger",
  { ledger: ledgerFlag, records: Flag.Int("records").pipe(Flag.withDefault(100_000), Flag.withDescription("records to write and verify")) },
  (f) =>
    Effect.gen(function* () {
      const metrics = runLedgerBenchmark({ records: f.records })
      yield* Console.log(
        renderTable(
          ["metric", "value", "unit"],
          metrics.map((m) => [m.name, formatNumber(m.value), m.unit])
        )
      )
      const info = yield* Effect.promise(() => initEngine({ backend: "wasm" }))
      const { runId } = recordBenchmark(
        f.ledger,
        { suite: "bench-ledger", name: "ledger", config: { records: f.records }, engine: info },
        metrics
      )
      yield* Console.log(`\nrecorded in ${f.ledger} (run ${runId})`)
    })
).pipe(
  Command.withDescription(
    "Ledger throughput: records written per second and the time to verify N records (default 100,000), in a scratch ledger."
  )
)

export const benchCommand = Command.make("bench").pipe(
  Command.withDescription(
    "Benchmarks, recorded in the ledger: engine throughput per backend, embedding forward+backward times, ledger write/verify speed."
  ),
  Command.withSubcommands([engine, embeddings, ledger])
)
