/**
 * Each method's and extension's parameters are a Schema.Struct (embeddings/params.ts): decoding it fills the defaults
 * and refuses every value outside the documented range, and its annotations are what `harness list` shows.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { decodeParams, type ParamSpec, paramSpecs } from "../../embeddings/params.js"
import { RandomPositionsParams } from "../../embeddings/randomized-positions.js"
import { EMBEDDINGS, embeddingParamProblems, embeddingParamSpecs, resolveEmbeddingParams } from "../../embeddings/registry.js"
import { EXTENSION_METHODS, EXTENSION_PARAMS, Llama3Params, YarnParams } from "../../embeddings/rotary-extensions.js"
import { FopeParams } from "../../embeddings/fope.js"
import { RopeParams } from "../../embeddings/rope.js"
import { listText } from "../../harness/cli/commands/list.js"
import { Extension } from "../../suites/schema.js"

/** Values a parameter must refuse: outside its range, of the wrong type, not one of its choices. */
const badValues = (p: ParamSpec): unknown[] => {
  switch (p.type) {
    case "boolean":
      return ["yes", 1, null]
    case "choice":
      return [Math.max(...(p.choices as number[])) + 1, "one", true]
    case "integer":
      return [p.min! - 1, p.max! + 1, p.min! + 0.5, "many", Number.NaN, true]
    case "number":
      return [
        ...(p.min !== undefined ? [p.exclusiveMin ? p.min : p.min - 1] : []),
        ...(p.max !== undefined ? [p.max * 2 + 1] : []),
        "much",
        Number.POSITIVE_INFINITY,
        false
      ]
  }
}

const messageOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(EmbeddingError)
    return (e as Error).message
  }
  throw new Error("the parameter was accepted")
}

describe("each method's parameters are a Schema.Struct", () => {
  it("the registry holds each module's Struct; every field documents its default and range, and decoding {} gives the defaults", () => {
    for (const m of Object.values(EMBEDDINGS)) {
      expect(Schema.isSchema(m.params), m.name).toBe(true)
      const specs = paramSpecs(m.params)
      expect(
        specs.map((s) => s.name),
        m.name
      ).toEqual(Object.keys(m.params.fields))
      for (const s of specs) {
        expect(s.doc.length, `${m.name}.${s.name}`).toBeGreaterThan(10)
        if (s.type === "number" || s.type === "integer") expect(s.min, `${m.name}.${s.name}`).toBeTypeOf("number")
      }
      expect(resolveEmbeddingParams(m.name, {})).toEqual(Object.fromEntries(specs.map((s) => [s.name, s.default])))
    }
    expect(FopeParams.fields).toHaveProperty("sigma")
    expect(Schema.decodeUnknownSync(RopeParams)({})).toEqual({ base: 10000 })
  })

  it("every bad value of every parameter of every method is refused, naming the parameter, the range and the value", () => {
    let checked = 0
    for (const m of Object.values(EMBEDDINGS)) {
      for (const spec of paramSpecs(m.params)) {
        for (const value of badValues(spec)) {
          const message = messageOf(() => resolveEmbeddingParams(m.name, { [spec.name]: value }))
          expect(message).toContain(`${m.name}: parameter ${spec.name} must be `)
          expect(message).toContain(`got ${JSON.stringify(value)}`)
          const problems = embeddingParamProblems(m.name, { [spec.name]: value })
          expect(problems).toHaveLength(1)
          expect(problems[0]).toContain(`params.${spec.name} must be `)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(80)
  })

  it("values on the edges of a range and command-line strings are accepted as their type", () => {
    expect(resolveEmbeddingParams("fope", { sigma: 0, fourierDim: 65536, clip: "true", padSin: "0", base: "2" })).toMatchObject({
      sigma: 0,
      fourierDim: 65536,
      clip: true,
      padSin: 0,
      base: 2
    })
    expect(resolveEmbeddingParams("t5", { buckets: "2", maxDistance: 1 << 20 })).toEqual({ buckets: 2, maxDistance: 1 << 20 })
    expect(resolveEmbeddingParams("fope", { sigma: undefined })).toMatchObject({ sigma: 0.3 })
  })

  it("randomPositions is the registry's, for methods that take positions, checked by its own Struct", () => {
    expect(paramSpecs(RandomPositionsParams).map((p) => [p.name, p.default])).toEqual([["randomPositions", 0]])
    expect(embeddingParamSpecs(EMBEDDINGS.rope!).map((p) => p.name)).toEqual(["base", "randomPositions"])
    expect(embeddingParamSpecs(EMBEDDINGS.alibi!).map((p) => p.name)).toEqual([])
    expect(embeddingParamProblems("rope", { randomPositions: 1.5 })).toEqual([
      "params.randomPositions must be an integer in [0, 16777216], default 0; got 1.5"
    ])
    expect(embeddingParamProblems("alibi", { randomPositions: 64 })[0]).toMatch(
      /^params\.randomPositions applies to methods whose hooks take positions .*; alibi does not$/
    )
  })

  it("a suite entry's problems name the path under the entry, the value and what is allowed, one line each", () => {
    expect(embeddingParamProblems("fope", { sigma: 11, sigmaa: 1, clip: "no" })).toEqual([
      expect.stringMatching(
        /^params\.sigmaa is not a parameter of fope; its parameters are sigma \(a number in \[0, 10\], default 0\.3\); .*base/
      ),
      "params.sigma must be a number in [0, 10], default 0.3; got 11",
      'params.clip must be true or false, default true; got "no"'
    ])
    expect(embeddingParamProblems("nope", { x: 1 })).toEqual(["params.x is not a parameter: nope takes no parameters"])
    expect(embeddingParamProblems("rope", { base: 500 })).toEqual([])
    expect(embeddingParamProblems("no-such-method", { base: 500 })).toEqual([])
  })

  it("decodeParams types the result and reports unknown keys before bad values", () => {
    const ok = decodeParams(FopeParams, { sigma: "0.5" })
    expect(ok.ok && ok.value.sigma).toBe(0.5)
    const bad = decodeParams(FopeParams, { clip: 3, zzz: 1 })
    expect(bad.ok ? [] : bad.problems.map((p) => [p.key, p.value, p.spec?.name])).toEqual([
      ["zzz", 1, undefined],
      ["clip", 3, "clip"]
    ])
  })
})

describe("each extension's parameters are a Schema.Struct", () => {
  it("yarn takes temperature, llama3 its three factors, the others none", () => {
    expect(Object.keys(EXTENSION_PARAMS).sort()).toEqual([...EXTENSION_METHODS].sort())
    expect(paramSpecs(YarnParams).map((p) => `${p.name}=${String(p.default)}`)).toEqual(["temperature=true"])
    expect(paramSpecs(Llama3Params).map((p) => `${p.name}=${String(p.default)}`)).toEqual([
      "factor=s",
      "lowFreqFactor=1",
      "highFreqFactor=4"
    ])
    for (const m of ["none", "pi", "ntk", "dynamic-ntk"] as const) expect(paramSpecs(EXTENSION_PARAMS[m])).toEqual([])
  })

  it("refuses what the suite file's Extension refuses, and accepts what it accepts", () => {
    const decodeSuite = Schema.decodeUnknownExit(Extension)
    const probes: Array<Record<string, unknown>> = [
      { factor: 8 },
      { factor: 1 },
      { factor: 0.5 },
      { lowFreqFactor: 0 },
      { lowFreqFactor: 0.001 },
      { highFreqFactor: -1 },
      { factor: Number.POSITIVE_INFINITY },
      { highFreqFactor: 4, lowFreqFactor: 1, factor: 8 }
    ]
    for (const probe of probes) {
      expect(decodeParams(Llama3Params, probe).ok, JSON.stringify(probe)).toBe(
        decodeSuite({ method: "llama3", ...probe })._tag === "Success"
      )
    }
    for (const temperature of [true, false]) expect(decodeParams(YarnParams, { temperature }).ok).toBe(true)
    expect(decodeParams(YarnParams, { temperature: 1 }).ok).toBe(false)
    expect(decodeSuite({ method: "yarn", temperature: 1 })._tag).toBe("Failure")
  })
})

describe("harness list shows each parameter with its default, from the Structs", () => {
  it("embeddings and extensions", () => {
    const text = listText("embeddings")
    expect(text).toContain("sigma=0.3 fourierDim=0 clip=true padSin=1 learnable=false normalize=false base=10000 randomPositions=0")
    expect(text).toMatch(/\balibi\b.*\s-\s/)
    const extensions = listText("extensions")
    expect(extensions).toContain("factor=s lowFreqFactor=1 highFreqFactor=4")
    expect(extensions).toContain("temperature=true")
  })
})
