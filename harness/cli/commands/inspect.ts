/**
 * `harness inspect <embedding>`: what a researcher looks at to understand a method, and what lets anyone check
 * it against another implementation — frequencies kept and clipped, coefficients at init, and for length T
 * the cos/sin tables (rotary family) or the bias matrix (bias family); readable, or full-precision JSON.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { inspectEmbedding, renderInspection } from "../../../embeddings/inspect.js"
import type { ExtensionSpec } from "../../../embeddings/interface.js"
import { decodeParams, describeAllowed, paramSpecs } from "../../../embeddings/params.js"
import { EXTENSION_METHODS, EXTENSION_PARAMS, type ExtensionMethod } from "../../../embeddings/rotary-extensions.js"
import { UsageError } from "../../errors.js"
import { initEngine } from "../../../models/engine/index.js"

/** `--param k=v`: numbers and booleans are parsed, anything else stays a string (the method's Schema checks types). */
export const parseParam = (text: string): Effect.Effect<[string, number | boolean | string], UsageError> =>
  Effect.suspend(() => {
    const i = text.indexOf("=")
    if (i <= 0) return Effect.fail(new UsageError({ message: `--param "${text}" is not key=value (for example --param sigma=0.3)` }))
    const key = text.slice(0, i).trim()
    const raw = text.slice(i + 1).trim()
    const value = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw
    return Effect.succeed([key, value])
  })

/**
 * `--extension yarn --extension-param temperature=false`: the extension spec, its parameters decoded by the
 * extension's Schema (EXTENSION_PARAMS: yarn takes temperature; llama3 factor, lowFreqFactor, highFreqFactor; the
 * others none). Only the parameters given are set: the extension fills in the others.
 */
export const parseExtension = (method: ExtensionMethod, params: ReadonlyArray<string>): Effect.Effect<ExtensionSpec, UsageError> =>
  Effect.gen(function* () {
    const schema = EXTENSION_PARAMS[method]
    const valid = paramSpecs(schema)
    const entries = yield* Effect.forEach(params, parseParam)
    for (const [key, value] of entries) {
      const spec = valid.find((p) => p.name === key)
      if (spec === undefined) {
        return yield* new UsageError({
          message: `--extension-param ${key}: extension "${method}" ${valid.length ? `takes ${valid.map((p) => p.name).join(", ")}` : "takes no parameters"} (harness list --what extensions)`
        })
      }
      if (!decodeParams(schema, { [key]: value }).ok) {
        return yield* new UsageError({ message: `--extension-param ${key}=${String(value)}: expected ${describeAllowed(spec)}` })
      }
    }
    const decoded = decodeParams(schema, Object.fromEntries(entries))
    if (!decoded.ok)
      return yield* new UsageError({
        message: `--extension-param: ${decoded.problems.map((p) => p.key).join(", ")} refused by extension "${method}"`
      })
    const given = new Set(entries.map(([key]) => key))
    return { method, ...Object.fromEntries(Object.entries(decoded.value).filter(([key]) => given.has(key))) } as ExtensionSpec
  })

export const inspectCommand = Command.make(
  "inspect",
  {
    embedding: Argument.String("embedding").pipe(Argument.withDescription("an embedding name (harness list --what embeddings)")),
    param: Flag.String("param").pipe(
      Flag.atLeast(0),
      Flag.withDescription("a parameter, key=value; repeat for several (e.g. --param sigma=0.3 --param clip=false)")
    ),
    headDim: Flag.Int("head-dim").pipe(Flag.withDefault(32), Flag.withDescription("per-head width d")),
    heads: Flag.Int("heads").pipe(Flag.withDefault(4), Flag.withDescription("number of heads H")),
    trainLength: Flag.Int("train-length").pipe(
      Flag.withDefault(128),
      Flag.withDescription("training length L (FoPE's floor clip and the extensions depend on it)")
    ),
    length: Flag.Int("length").pipe(Flag.withDefault(16), Flag.withDescription("length T of the tables / bias matrix to print")),
    layers: Flag.Int("layers").pipe(Flag.withDefault(1), Flag.withDescription("layers to build (FoPE draws coefficients per layer)")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(0), Flag.withDescription("seed of any random initialisation")),
    extension: Flag.Literals("extension", EXTENSION_METHODS).pipe(
      Flag.withDefault("none" as const),
      Flag.withDescription("show the tables under an inference-time extension (rotary family; harness list --what extensions)")
    ),
    extensionParam: Flag.String("extension-param").pipe(
      Flag.atLeast(0),
      Flag.withDescription("an extension parameter, key=value (yarn: temperature=false; llama3: factor=8 lowFreqFactor=1 highFreqFactor=4)")
    ),
    evalLength: Flag.Int("eval-length").pipe(
      Flag.optional,
      Flag.withDescription(
        "the extension's target length L' (scale s = L'/L; default --length); --length is then the current length, which dynamic NTK follows"
      )
    ),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("full-precision JSON instead of the readable summary"))
  },
  (f) =>
    Effect.gen(function* () {
      // the reference backend: exact float32 math for tables meant to be compared with other implementations
      yield* Effect.promise(() => initEngine({ backend: "cpu" }))
      const params = Object.fromEntries(yield* Effect.forEach(f.param, parseParam))
      const extension = yield* parseExtension(f.extension, f.extensionParam)
      if (f.extension === "none" && (f.extensionParam.length > 0 || Option.isSome(f.evalLength))) {
        return yield* new UsageError({
          message: "--eval-length and --extension-param apply to an extension: add --extension pi, ntk, dynamic-ntk, yarn or llama3"
        })
      }
      const result = yield* Effect.try({
        try: () =>
          inspectEmbedding({
            name: f.embedding,
            params,
            headDim: f.headDim,
            heads: f.heads,
            trainLength: f.trainLength,
            length: f.length,
            seed: f.seed,
            layers: f.layers,
            extension,
            ...(Option.isSome(f.evalLength) ? { evalLength: f.evalLength.value } : {})
          }),
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
    { command: "harness inspect rope --param base=500000 --json > rope.json", description: "full-precision tables" },
    {
      command: "harness inspect rope --extension yarn --eval-length 1024 --json",
      description: "RoPE's tables under YaRN for 8x the training length"
    },
    {
      command: "harness inspect rope --extension dynamic-ntk --eval-length 1024 --length 512",
      description: "dynamic NTK's tables at current length 512"
    }
  ])
)
