/**
 * Inference-time extensions of the rotary family (train at L, evaluate at L' = s*L;
 * position-embeddings.md, "Inference-time extensions"), as a function from the current length T to the
 * pair frequencies and the attention temperature to use, plus the checks shared by every method.
 */
import { Schema } from "effect"
import { EmbeddingError, type ExtensionSpec, type PositionEmbedding } from "./interface.js"
import { booleanParam, numberParam, optionalNumberParam, type ParamsSchema, paramSpecs } from "./params.js"
import {
  dynamicNtkBase,
  LLAMA3_DEFAULTS,
  llama3Frequencies,
  ntkBase,
  piFrequencies,
  yarnFrequencies,
  yarnMscale
} from "./rotary-frequencies.js"

export const EXTENSION_METHODS = ["none", "pi", "ntk", "dynamic-ntk", "yarn", "llama3"] as const
export type ExtensionMethod = (typeof EXTENSION_METHODS)[number]

/** PI, NTK, dynamic NTK (and "none") take no parameters. */
export const NoExtensionParams = Schema.Struct({})

/** YaRN's parameters. */
export const YarnParams = Schema.Struct({
  temperature: booleanParam({
    default: true,
    doc: "scale the attention logits by YaRN's temperature 0.1*ln(s) + 1 (false: frequencies only)"
  })
})
export type YarnParams = typeof YarnParams.Type

/** Llama 3 rope scaling's parameters (Llama 3.1 uses factor 8, lowFreqFactor 1, highFreqFactor 4; highFreqFactor > lowFreqFactor). */
export const Llama3Params = Schema.Struct({
  factor: optionalNumberParam({ min: 1, shown: "s", doc: "divisor of the low frequencies; default the evaluation scale s = L'/L" }),
  lowFreqFactor: numberParam({
    default: LLAMA3_DEFAULTS.lowFreqFactor,
    min: 0,
    exclusiveMin: true,
    doc: "pairs with wavelength above L/lowFreqFactor are divided by factor"
  }),
  highFreqFactor: numberParam({
    default: LLAMA3_DEFAULTS.highFreqFactor,
    min: 0,
    exclusiveMin: true,
    doc: "pairs with wavelength below L/highFreqFactor are kept"
  })
})
export type Llama3Params = typeof Llama3Params.Type

/** Each extension's parameters, by method. */
export const EXTENSION_PARAMS: { readonly [M in ExtensionMethod]: ParamsSchema } = {
  none: NoExtensionParams,
  pi: NoExtensionParams,
  ntk: NoExtensionParams,
  "dynamic-ntk": NoExtensionParams,
  yarn: YarnParams,
  llama3: Llama3Params
}

/** "temperature=true", "factor=s lowFreqFactor=1 highFreqFactor=4", "-" */
const parametersText = (method: ExtensionMethod): string =>
  paramSpecs(EXTENSION_PARAMS[method])
    .map((p) => `${p.name}=${String(p.default)}`)
    .join(" ") || "-"

/** Every extension with its parameters, for `harness list` (the formulas are in rotary-frequencies.ts). */
export const EXTENSION_CATALOGUE: ReadonlyArray<{ readonly name: string; readonly parameters: string; readonly description: string }> = [
  { name: "pi", parameters: parametersText("pi"), description: "Position Interpolation: w' = w/s, s = L'/L" },
  { name: "ntk", parameters: parametersText("ntk"), description: "NTK-aware: base b' = b*s^(d/(d-2))" },
  {
    name: "dynamic-ntk",
    parameters: parametersText("dynamic-ntk"),
    description: "NTK with the base of the current length l: b*((s*l/L) - (s-1))^(d/(d-2))"
  },
  {
    name: "yarn",
    parameters: parametersText("yarn"),
    description: "NTK-by-parts over the pair index (beta 32 / 1) and attention temperature 0.1*ln(s) + 1"
  },
  {
    name: "llama3",
    parameters: parametersText("llama3"),
    description: "Llama 3: keep pairs with wavelength < L/high, divide by factor above L/low, smooth ramp in L/wavelength between"
  }
]

/** What an extension gives at length T: pair frequencies (d/2), the factor on C and S, and a cache key. */
export interface ExtendedFrequencies {
  readonly w: Float64Array
  readonly mscale: number
  /** tables at two lengths share an entry when their keys agree (only dynamic NTK depends on T) */
  readonly key: string
}

export interface ExtensionContext {
  /** the method's grid at a base: d/2 pair frequencies, zeros for dropped pairs (p-RoPE) */
  readonly grid: (base: number) => Float64Array
  readonly base: number
  /** the rotary dimension d of the formulas (`b^(-2k/d)`) */
  readonly dim: number
  readonly trainLength: number
  readonly evalLength: number
}

/** Fails unless `extension` is a known one and `evalLength` a positive integer. */
export const checkExtension = (method: string, extension: ExtensionSpec, evalLength: number): void => {
  if (!(EXTENSION_METHODS as ReadonlyArray<string>).includes(extension.method)) {
    throw new EmbeddingError(`${method}: unknown extension "${extension.method}"; use one of ${EXTENSION_METHODS.join(", ")}`)
  }
  if (!Number.isInteger(evalLength) || evalLength < 1) {
    throw new EmbeddingError(`${method}: evalLength must be a positive integer, got ${evalLength}`)
  }
  if (extension.method === "llama3") {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi } = llama3Settings(extension, 1)
    if (!(factor >= 1) || !Number.isFinite(factor) || !(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) {
      throw new EmbeddingError(
        `${method}: llama3 needs factor >= 1 and 0 < lowFreqFactor < highFreqFactor, got factor ${factor}, ` +
          `lowFreqFactor ${lo}, highFreqFactor ${hi} (Llama 3.1 uses 8, 1, 4)`
      )
    }
  }
}

/** Llama 3 settings with defaults: factor = the evaluation scale s, frequency factors Llama 3.1's. */
export const llama3Settings = (
  extension: Extract<ExtensionSpec, { method: "llama3" }>,
  s: number
): { factor: number; lowFreqFactor: number; highFreqFactor: number } => ({
  factor: extension.factor ?? s,
  lowFreqFactor: extension.lowFreqFactor ?? LLAMA3_DEFAULTS.lowFreqFactor,
  highFreqFactor: extension.highFreqFactor ?? LLAMA3_DEFAULTS.highFreqFactor
})

/** The scale `s = L'/L`, at least 1 (an extension never compresses positions below the training length). */
export const extensionScale = (trainLength: number, evalLength: number): number => Math.max(1, evalLength / trainLength)

/** `(T) -> frequencies` for one extension of a rotary method. */
export const extendedFrequencies = (extension: ExtensionSpec, ctx: ExtensionContext): ((T: number) => ExtendedFrequencies) => {
  const s = extensionScale(ctx.trainLength, ctx.evalLength)
  switch (extension.method) {
    case "none": {
      const w = ctx.grid(ctx.base)
      return () => ({ w, mscale: 1, key: "none" })
    }
    case "pi": {
      const w = piFrequencies(ctx.grid(ctx.base), s)
      return () => ({ w, mscale: 1, key: "pi" })
    }
    case "ntk": {
      const w = ctx.grid(ntkBase(ctx.base, ctx.dim, s))
      return () => ({ w, mscale: 1, key: "ntk" })
    }
    case "dynamic-ntk":
      return (T) => {
        const b = dynamicNtkBase(ctx.base, ctx.dim, ctx.trainLength, s, T)
        return { w: ctx.grid(b), mscale: 1, key: `dynamic-ntk/T${T}` }
      }
    case "yarn": {
      const w = yarnFrequencies(ctx.grid(ctx.base), s, ctx.dim, ctx.base, ctx.trainLength)
      const mscale = extension.temperature === false ? 1 : yarnMscale(s)
      return () => ({ w, mscale, key: "yarn" })
    }
    case "llama3": {
      // the original context length of the reference is the training length
      const { factor, lowFreqFactor, highFreqFactor } = llama3Settings(extension, s)
      const w = llama3Frequencies(ctx.grid(ctx.base), factor, ctx.trainLength, lowFreqFactor, highFreqFactor)
      return () => ({ w, mscale: 1, key: "llama3" })
    }
  }
}

/**
 * `extend` of a method outside the rotary family: "none" gives a view (shares everything, frees nothing);
 * any other extension fails, since PI / NTK / YaRN rescale rotary frequencies and this method has none.
 */
export const extendNonRotary = (embedding: PositionEmbedding, extension: ExtensionSpec, evalLength: number): PositionEmbedding => {
  checkExtension(embedding.name, extension, evalLength)
  if (extension.method !== "none") {
    throw new EmbeddingError(
      `${embedding.name} (${embedding.family} family) has no inference-time extension "${extension.method}": ` +
        `extensions (pi, ntk, dynamic-ntk, yarn, llama3) apply to the rotary family (rope, fope, xpos, p-rope); ` +
        `evaluate ${embedding.name} with extension "none"`
    )
  }
  return viewOf(embedding)
}

/** A view of an embedding: same hooks and tensors, and a `dispose` that frees nothing of the owner's. */
export const viewOf = (embedding: PositionEmbedding): PositionEmbedding => {
  const view: PositionEmbedding = {
    name: embedding.name,
    family: embedding.family,
    params: embedding.params,
    shape: embedding.shape,
    ...(embedding.input ? { input: embedding.input } : {}),
    ...(embedding.queryKey ? { queryKey: embedding.queryKey } : {}),
    ...(embedding.scoreBias ? { scoreBias: embedding.scoreBias } : {}),
    ...(embedding.inputBias ? { inputBias: embedding.inputBias } : {}),
    ...(embedding.normalise ? { normalise: embedding.normalise } : {}),
    ...(embedding.maxLength !== undefined ? { maxLength: embedding.maxLength } : {}),
    trainable: embedding.trainable,
    ...(embedding.trainableNames ? { trainableNames: embedding.trainableNames } : {}),
    fixed: embedding.fixed,
    extend: (extension, evalLength) => embedding.extend(extension, evalLength),
    describeSpectrum: () => embedding.describeSpectrum(),
    dispose: () => {}
  }
  return view
}
