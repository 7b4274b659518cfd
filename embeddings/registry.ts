/**
 * Every position-embedding method by name, parameter resolution (each method's Schema of its parameters,
 * params.ts) with errors that list the valid choices, and construction from a suite's `{ name, params }`.
 */
import { Schema } from "effect"
import { alibi } from "./alibi.js"
import { clippedRope } from "./clipped-rope.js"
import { fire } from "./fire.js"
import { fope } from "./fope.js"
import { forgettingTransformer } from "./forgetting-transformer.js"
import { hope } from "./hope.js"
import { EmbeddingError, type EmbeddingModule, type EmbeddingShape, type PositionEmbedding } from "./interface.js"
import { kerpleLog } from "./kerple-log.js"
import { kerplePower } from "./kerple-power.js"
import { learnedAbsolute } from "./learned-absolute.js"
import { nope } from "./nope.js"
import { pRope } from "./p-rope.js"
import { decodeParams, describeParam, describeRange, type ParamSpec, paramSpecs } from "./params.js"
import { RandomPositionsParams, withRandomizedPositions } from "./randomized-positions.js"
import { rope } from "./rope.js"
import { sinusoidal } from "./sinusoidal.js"
import { stickBreaking } from "./stick-breaking.js"
import { t5 } from "./t5-bias.js"
import { xpos } from "./xpos.js"

export const EMBEDDINGS: Readonly<Record<string, EmbeddingModule>> = Object.fromEntries(
  [
    nope,
    sinusoidal,
    learnedAbsolute,
    rope,
    fope,
    alibi,
    kerpleLog,
    kerplePower,
    fire,
    t5,
    xpos,
    pRope,
    hope,
    clippedRope,
    forgettingTransformer,
    stickBreaking
  ].map((m) => [m.name, m])
)

export const listEmbeddings = (): ReadonlyArray<EmbeddingModule> => Object.values(EMBEDDINGS)

/** A suite's embedding entry: `{ name, params? }`. */
export const EmbeddingSpecSchema = Schema.Struct({
  name: Schema.String,
  params: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type EmbeddingSpec = typeof EmbeddingSpecSchema.Type

export const embeddingModule = (name: string): EmbeddingModule => {
  const found = Object.hasOwn(EMBEDDINGS, name) ? EMBEDDINGS[name] : undefined
  if (!found) {
    throw new EmbeddingError(`unknown embedding "${name}". Valid embeddings: ${Object.keys(EMBEDDINGS).join(", ")}`)
  }
  return found
}

/** Every parameter a method accepts, with its default and range: its own, then `randomPositions` where it takes positions. */
export const embeddingParamSpecs = (module: EmbeddingModule): ReadonlyArray<ParamSpec> => [
  ...paramSpecs(module.params),
  ...(module.takesPositions ? paramSpecs(RandomPositionsParams) : [])
]

/** What is wrong with one parameter of a method (paramProblem / suiteParamProblem say it in words). */
type Refusal =
  | { readonly kind: "unknown"; readonly key: string }
  | { readonly kind: "value"; readonly key: string; readonly spec: ParamSpec; readonly value: unknown }
  | { readonly kind: "positions"; readonly key: string }

const takingPositions = (): string =>
  listEmbeddings()
    .filter((m) => m.takesPositions)
    .map((m) => m.name)
    .join(", ")

/** The method's own parameters decoded by its Schema, the resolved record (plus randomPositions when on), and every refusal. */
const refusals = (
  module: EmbeddingModule,
  raw: Readonly<Record<string, unknown>>
): { refused: Refusal[]; own: EmbeddingModule["params"]["Type"]; resolved: Record<string, unknown> } => {
  const own = decodeParams(module.params, raw, ["randomPositions"])
  const refused: Refusal[] = own.ok
    ? []
    : own.problems.map(
        (p): Refusal =>
          p.spec === undefined ? { kind: "unknown", key: p.key } : { kind: "value", key: p.key, spec: p.spec, value: p.value }
      )
  const resolved: Record<string, unknown> = own.ok ? { ...own.value } : {}
  // randomized positions: resolved only when on, so a method's job keys without it stay what they were
  if (raw.randomPositions !== undefined) {
    if (!module.takesPositions) refused.push({ kind: "positions", key: "randomPositions" })
    else {
      const positions = decodeParams(RandomPositionsParams, { randomPositions: raw.randomPositions })
      if (!positions.ok)
        refused.push(...positions.problems.map((p): Refusal => ({ kind: "value", key: p.key, spec: p.spec!, value: p.value })))
      else if (positions.value.randomPositions > 0) resolved.randomPositions = positions.value.randomPositions
    }
  }
  return { refused, own: own.ok ? own.value : {}, resolved }
}

/** A refusal as the registry words it, after "<method>: " (one line). */
const paramProblem = (name: string, module: EmbeddingModule, r: Refusal): string => {
  switch (r.kind) {
    case "unknown": {
      const specs = paramSpecs(module.params)
      return specs.length === 0
        ? `unknown parameter "${r.key}"; ${name} takes no parameters`
        : `unknown parameter "${r.key}"; its parameters are ${specs.map(describeParam).join("; ")}`
    }
    case "value":
      return `parameter ${r.spec.name} must be ${describeRange(r.spec)}; got ${JSON.stringify(r.value)}`
    case "positions":
      return `randomPositions applies to methods whose hooks take positions (${takingPositions()}); ${name} does not`
  }
}

/**
 * The method's parameters with defaults filled in, in the order of its Struct's fields (what is hashed into a job
 * key), decoded with the method's Schema. Collects every problem (unknown name, unknown parameter, wrong type, out of
 * range) into one EmbeddingError, one line each.
 */
export const resolveEmbeddingParams = (name: string, raw: Readonly<Record<string, unknown>> = {}): Record<string, unknown> => {
  const module = embeddingModule(name)
  const { refused, resolved } = refusals(module, raw)
  if (refused.length > 0) throw new EmbeddingError(refused.map((r) => `${name}: ${paramProblem(name, module, r)}`).join("\n"))
  return resolved
}

/**
 * A suite entry's parameter problems, one line each, naming the path under the entry (`params.sigma`), the value
 * given and what is allowed: `params.sigma must be a number in [0, 10], default 0.3; got -1`. Empty when the
 * parameters decode, or when `name` is not a method (the suite loader reports that).
 */
export const embeddingParamProblems = (name: string, raw: Readonly<Record<string, unknown>>): ReadonlyArray<string> => {
  const module = Object.hasOwn(EMBEDDINGS, name) ? EMBEDDINGS[name] : undefined
  if (module === undefined) return []
  return refusals(module, raw).refused.map((r) => {
    switch (r.kind) {
      case "unknown": {
        const specs = paramSpecs(module.params)
        return specs.length === 0
          ? `params.${r.key} is not a parameter: ${name} takes no parameters`
          : `params.${r.key} is not a parameter of ${name}; its parameters are ${specs.map(describeParam).join("; ")}`
      }
      case "value":
        return `params.${r.key} must be ${describeRange(r.spec)}; got ${JSON.stringify(r.value)}`
      case "positions":
        return `params.randomPositions applies to methods whose hooks take positions (${takingPositions()}); ${name} does not`
    }
  })
}

const checkShape = (name: string, shape: EmbeddingShape): void => {
  const bad = (["dModel", "heads", "headDim", "layers", "trainLength"] as const).filter((k) => !Number.isInteger(shape[k]) || shape[k] < 1)
  if (bad.length > 0) {
    throw new EmbeddingError(`${name}: shape fields ${bad.join(", ")} must be positive integers, got ${JSON.stringify(shape)}`)
  }
}

/** Builds a method from `{ name, params }` (params resolved and validated here) for a model shape and seed. */
export const createEmbedding = (
  spec: { readonly name: string; readonly params?: Readonly<Record<string, unknown>> | undefined },
  shape: EmbeddingShape,
  seed: number
): PositionEmbedding => {
  const module = embeddingModule(spec.name)
  const { refused, own, resolved } = refusals(module, spec.params ?? {})
  if (refused.length > 0) throw new EmbeddingError(refused.map((r) => `${spec.name}: ${paramProblem(spec.name, module, r)}`).join("\n"))
  checkShape(spec.name, shape)
  // the method gets its own parameters, typed by its Schema; randomPositions is the registry's
  const built = module.create(own, shape, seed)
  const M = resolved.randomPositions
  return typeof M === "number" && M > 0 ? withRandomizedPositions(built, M, seed) : built
}
