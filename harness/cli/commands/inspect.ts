/**
 * `harness inspect <embedding>`: what a researcher looks at to understand a method, and what lets anyone check
 * it against another implementation — frequencies kept and clipped, coefficients at init, and for length T
 * the cos/sin tables (rotary family) or the bias matrix (bias family); readable, or full-precision JSON.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { inspectEmbedding, renderInspection } from "../../../embeddings/inspect.js"
import { UsageError } from "../../errors.js"
import { initEngine } from "../../../models/engine/index.js"

/** `--param k=v`: numbers and booleans are parsed, anything else stays a string (the registry checks types). */
export const parseParam = (text: string): [string, number | boolean | string] => {
  const i = text.indexOf("=")
  if (i <= 0) throw new UsageError({ message: `--param "${text}" is not key=value (for example --param sigma=0.3)` })
  const key = text.slice(0, i).trim()
  const raw = text.slice(i + 1).trim()
  const value = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw
  return [key, value]
}

export const inspectCommand = Command.make(
  "inspect",
  {
    embedding: Argument.String("embedding").pipe(Argument.withDescription("an embedding name (harness list --what embeddings)")),
    param: Flag.String("param").pipe(Flag.atLeast(0), Flag.withDescription("a parameter, key=value; repeat for several (e.g. --param sigma=0.3 --param clip=false)")),
    headDim: Flag.Int("head-dim").pipe(Flag.withDefault(32), Flag.withDescription("per-head width d")),
    heads: Flag.Int("heads").pipe(Flag.withDefault(4), Flag.withDescription("number of heads H")),
    trainLength: Flag.Int("train-length").pipe(Flag.withDefault(128), Flag.withDescription("training length L (FoPE's floor clip and the extensions depend on it)")),
    length: Flag.Int("length").pipe(Flag.withDefault(16), Flag.withDescription("length T of the tables / bias matrix to print")),
    layers: Flag.Int("layers").pipe(Flag.withDefault(1), Flag.withDescription("layers to build (FoPE draws coefficients per layer)")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(0), Flag.withDescription("seed of any random initialisation")),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("full-precision JSON instead of the readable summary"))
  },
  (f) =>
    Effect.gen(function* () {
      // the reference backend: exact float32 math for tables meant to be compared with other implementations
      yield* Effect.promise(() => initEngine({ backend: "cpu" }))
      const params = Object.fromEntries(yield* Effect.try({ try: () => f.param.map(parseParam), catch: (e) => e as UsageError }))
      const result = yield* Effect.try({
        try: () =>
          inspectEmbedding({ name: f.embedding, params, headDim: f.headDim, heads: f.heads, trainLength: f.trainLength, length: f.length, seed: f.seed, layers: f.layers }),
        catch: (e) => new UsageError({ message: (e as Error).message })
      })
      yield* Console.log(f.json ? JSON.stringify(result, null, 2) : renderInspection(result))
    })
).pipe(
  Command.withDescription(
    "Show a position embedding as built: its resolved parameters, the frequencies it keeps and clips, its coefficients or learned parameters at init, " +
      "and for length T the cos/sin tables (rotary family) or the bias matrix (bias family). --json prints everything at full precision, to check against another implementation."
  ),
  Command.withExamples([
    { command: "harness inspect fope --head-dim 32 --train-length 128", description: "FoPE keeps 6 of 16 frequencies at d=32, L=128" },
    { command: "harness inspect alibi --heads 6 --length 8", description: "ALiBi's slopes for 6 heads and its bias matrix" },
    { command: "harness inspect rope --param base=500000 --json > rope.json", description: "full-precision tables" }
  ])
)
