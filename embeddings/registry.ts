/**
 * Every position-embedding method by name, parameter resolution with errors that list the valid choices,
 * and construction from a suite's `{ name, params }`.
 */
import { Schema } from "effect"
import { alibi } from "./alibi.js"
import { clippedRope } from "./clipped-rope.js"
import { fire } from "./fire.js"
import { fope } from "./fope.js"
import { forgettingTransformer } from "./forgetting-transformer.js"
import { hope } from "./hope.js"
import { EmbeddingError, type EmbeddingModule, type EmbeddingShape, type ParamSpec, type PositionEmbedding } from "./interface.js"
import { kerpleLog } from "./kerple-log.js"
import { kerplePower } from "./kerple-power.js"
import { learnedAbsolute } from "./learned-absolute.js"
import { nope } from "./nope.js"
import { pRope } from "./p-rope.js"
import { RANDOM_POSITIONS_PARAM, withRandomizedPositions } from "./randomized-positions.js"
import { rope } from "./rope.js"
import { sinusoidal } from "./sinusoidal.js"
import { stickBreaking } from "./stick-breaking.js"
import { t5 } from "./t5-bias.js"
import { xpos } from "./xpos.js"

export const EMBEDDINGS: Readonly<Record<string, EmbeddingModule>> = Object.fromEntries(
  [nope, sinusoidal, learnedAbsolute, rope, fope, alibi, kerpleLog, kerplePower, fire, t5, xpos, pRope, hope, clippedRope, forgettingTransformer, stickBreaking].map((m) => [m.name, m])
)

export const listEmbeddings = (): ReadonlyArray<EmbeddingModule> => Object.values(EMBEDDINGS)

/** A suite's embedding entry: `{ name, params? }`. */
export const EmbeddingSpecSchema = Schema.Struct({
  name: Schema.String,
  params: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type EmbeddingSpec = typeof EmbeddingSpecSchema.Type

export const embeddingModule = (name: string): EmbeddingModule => {
  const found = Object.prototype.hasOwnProperty.call(EMBEDDINGS, name) ? EMBEDDINGS[name] : undefined
  if (!found) {
    throw new EmbeddingError(`unknown embedding "${name}". Valid embeddings: ${Object.keys(EMBEDDINGS).join(", ")}`)
  }
  return found
}

/** "sigma (number in [0, 10], default 0.3)" */
export const describeParam = (p: ParamSpec): string => {
  const range =
    p.type === "choice"
      ? `one of ${(p.choices ?? []).map((c) => JSON.stringify(c)).join(", ")}`
      : p.type === "boolean"
        ? "true or false"
        : `${p.type === "integer" ? "an integer" : "a number"} in [${p.min ?? "-inf"}, ${p.max ?? "inf"}]`
  return `${p.name} (${range}, default ${JSON.stringify(p.default)})`
}

/** A value checked against its spec; strings from a command line ("0.5", "true") are read as their type. */
const checkParam = (method: string, p: ParamSpec, value: unknown): { ok: true; value: unknown } | { ok: false; problem: string } => {
  const bad = (): { ok: false; problem: string } => ({
    ok: false,
    problem: `${method}: parameter ${p.name} must be ${describeParam(p).slice(p.name.length + 2, -1)}; got ${JSON.stringify(value)}`
  })
  const asNumber = (v: unknown): number | undefined =>
    typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : undefined
  switch (p.type) {
    case "boolean": {
      const b = typeof value === "boolean" ? value : value === "true" ? true : value === "false" ? false : undefined
      return b === undefined ? bad() : { ok: true, value: b }
    }
    case "choice": {
      const choices = p.choices ?? []
      const numeric = typeof choices[0] === "number"
      const v = numeric ? asNumber(value) : value
      return choices.includes(v as string | number) ? { ok: true, value: v } : bad()
    }
    case "number":
    case "integer": {
      const n = asNumber(value)
      if (n === undefined || !Number.isFinite(n)) return bad()
      if (p.type === "integer" && !Number.isInteger(n)) return bad()
      if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) return bad()
      return { ok: true, value: n }
    }
  }
}

/**
 * The method's parameters with defaults filled in, in the method's order (what is hashed into a job key).
 * Collects every problem (unknown name, unknown parameter, wrong type, out of range) into one EmbeddingError.
 */
export const resolveEmbeddingParams = (name: string, raw: Readonly<Record<string, unknown>> = {}): Record<string, unknown> => {
  const module = embeddingModule(name)
  const problems: string[] = []
  const known = new Set(module.params.map((p) => p.name))
  for (const key of Object.keys(raw)) {
    if (!known.has(key) && key !== RANDOM_POSITIONS_PARAM.name) {
      problems.push(
        module.params.length === 0
          ? `${name}: unknown parameter "${key}"; ${name} takes no parameters`
          : `${name}: unknown parameter "${key}"; its parameters are ${module.params.map(describeParam).join("; ")}`
      )
    }
  }
  const resolved: Record<string, unknown> = {}
  for (const p of module.params) {
    const given = Object.prototype.hasOwnProperty.call(raw, p.name) && raw[p.name] !== undefined
    if (!given) {
      resolved[p.name] = p.default
      continue
    }
    const checked = checkParam(name, p, raw[p.name])
    if (checked.ok) resolved[p.name] = checked.value
    else problems.push(checked.problem)
  }
  // randomized positions: resolved only when on, so a method's job keys without it stay what they were
  const random = raw[RANDOM_POSITIONS_PARAM.name]
  if (module.takesPositions && random !== undefined) {
    const checked = checkParam(name, RANDOM_POSITIONS_PARAM, random)
    if (!checked.ok) problems.push(checked.problem)
    else if ((checked.value as number) > 0) resolved[RANDOM_POSITIONS_PARAM.name] = checked.value
  } else if (random !== undefined) {
    problems.push(
      `${name}: randomPositions applies to methods whose hooks take positions (${listEmbeddings().filter((m) => m.takesPositions).map((m) => m.name).join(", ")}); ${name} does not`
    )
  }
  if (problems.length > 0) throw new EmbeddingError(problems.join("\n"))
  return resolved
}

const checkShape = (name: string, shape: EmbeddingShape): void => {
  const bad = (["dModel", "heads", "headDim", "layers", "trainLength"] as const).filter(
    (k) => !Number.isInteger(shape[k]) || shape[k] < 1
  )
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
  const params = resolveEmbeddingParams(spec.name, spec.params ?? {})
  checkShape(spec.name, shape)
  const built = module.create(params, shape, seed)
  const M = params[RANDOM_POSITIONS_PARAM.name]
  return typeof M === "number" && M > 0 ? withRandomizedPositions(built, M, seed) : built
}
