/** The registry: names, defaults, and errors that list the valid choices and ranges. */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { EMBEDDINGS, EmbeddingSpecSchema, createEmbedding, listEmbeddings, resolveEmbeddingParams } from "../../embeddings/registry.js"
import { shapeOf } from "./helpers.js"

const messageOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(EmbeddingError)
    return (e as Error).message
  }
  throw new Error("expected an EmbeddingError")
}

describe("registry", () => {
  it("holds the sixteen methods, each with its family", () => {
    expect(listEmbeddings().map((m) => m.name)).toEqual([
      "nope",
      "sinusoidal",
      "learned",
      "rope",
      "fope",
      "alibi",
      "kerple-log",
      "kerple-power",
      "fire",
      "t5",
      "xpos",
      "p-rope",
      "hope",
      "cope",
      "fox",
      "stick-breaking"
    ])
    expect(Object.fromEntries(listEmbeddings().map((m) => [m.name, m.family]))).toMatchObject({
      nope: "none",
      sinusoidal: "input",
      learned: "input",
      rope: "rotary",
      fope: "rotary",
      alibi: "bias",
      t5: "bias",
      "p-rope": "rotary",
      hope: "rotary",
      cope: "rotary",
      fox: "attention",
      "stick-breaking": "attention"
    })
  })

  it("fills defaults in the method's order (FoPE: the released code's)", () => {
    expect(resolveEmbeddingParams("fope", {})).toEqual({
      sigma: 0.3,
      fourierDim: 0,
      clip: true,
      padSin: 1,
      learnable: false,
      normalize: false,
      base: 10000
    })
    expect(Object.keys(resolveEmbeddingParams("fope", { base: 500, sigma: 0 }))).toEqual([
      "sigma",
      "fourierDim",
      "clip",
      "padSin",
      "learnable",
      "normalize",
      "base"
    ])
    expect(resolveEmbeddingParams("alibi", {})).toEqual({})
  })

  it("reads command-line strings as their type", () => {
    expect(resolveEmbeddingParams("fope", { sigma: "0.5", clip: "false", padSin: "0" })).toMatchObject({
      sigma: 0.5,
      clip: false,
      padSin: 0
    })
  })

  it("an unknown name lists the valid names", () => {
    const m = messageOf(() => resolveEmbeddingParams("rotary", {}))
    expect(m).toContain('unknown embedding "rotary"')
    for (const name of Object.keys(EMBEDDINGS)) expect(m).toContain(name)
  })

  it("an unknown parameter lists that method's parameters", () => {
    const m = messageOf(() => resolveEmbeddingParams("fope", { sigmaa: 0.3 }))
    expect(m).toContain('unknown parameter "sigmaa"')
    for (const p of ["sigma", "fourierDim", "clip", "padSin", "learnable", "normalize", "base"]) expect(m).toContain(p)
    expect(messageOf(() => resolveEmbeddingParams("alibi", { slope: 1 }))).toContain("takes no parameters")
  })

  it("a wrong type or a value out of range names the parameter, the allowed range and the value; all problems at once", () => {
    const m = messageOf(() => resolveEmbeddingParams("fope", { sigma: -1, clip: "yes", padSin: 2, fourierDim: 3.5, extra: 1 }))
    expect(m).toContain("sigma")
    expect(m).toContain("[0, 10]")
    expect(m).toContain("-1")
    expect(m).toContain("clip (true or false")
    expect(m).toContain('"yes"')
    expect(m).toContain("one of 1, 0")
    expect(m).toContain("fourierDim")
    expect(m).toContain("an integer")
    expect(m).toContain('unknown parameter "extra"')
    expect(m.split("\n")).toHaveLength(5)
  })

  it("createEmbedding resolves, validates and builds", () => {
    const e = createEmbedding({ name: "rope" }, shapeOf({ headDim: 8, heads: 2 }), 0)
    expect(e.params).toEqual({ base: 10000 })
    expect(e.family).toBe("rotary")
    e.dispose()
    expect(() => createEmbedding({ name: "rope" }, shapeOf({ headDim: 7, heads: 2 }), 0)).toThrow(/even headDim/)
    expect(() => createEmbedding({ name: "rope" }, { ...shapeOf({ headDim: 8, heads: 2 }), layers: 0 }, 0)).toThrow(/layers/)
  })

  it("exports a Schema for a suite's { name, params }", () => {
    const decode = Schema.decodeUnknownSync(EmbeddingSpecSchema)
    expect(decode({ name: "fope", params: { sigma: 0.3 } })).toEqual({ name: "fope", params: { sigma: 0.3 } })
    expect(() => decode({ params: {} })).toThrow()
  })
})
