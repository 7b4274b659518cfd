/** `inspectEmbedding` / `renderInspection`: the JSON a researcher checks another implementation against. */
import { beforeAll, describe, expect, it } from "vitest"
import { inspectEmbedding, renderInspection } from "../../embeddings/inspect.js"
import { ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
import { useCpu } from "./helpers.js"

beforeAll(useCpu)

describe("inspect", () => {
  it("FoPE: frequencies, full coefficients and per-head tables, JSON-able", () => {
    const ins = inspectEmbedding({
      name: "fope",
      params: { sigma: 0.3 },
      headDim: 32,
      heads: 2,
      trainLength: 128,
      length: 6,
      seed: 3,
      layers: 2
    })
    expect(ins.params).toMatchObject({ sigma: 0.3, clip: true })
    expect(ins.spectrum.kept).toHaveLength(6)
    expect(ins.spectrum.clipped).toHaveLength(10)
    expect(ins.spectrum.notes).toMatchObject({ K: 6, dOut: 6 })
    expect(ins.fixed["layer1/sinCoef"]!.shape).toEqual([2, 6, 6])
    expect(ins.fixed["layer1/sinCoef"]!.values).toHaveLength(72)
    expect(ins.rotaryTables).toHaveLength(2)
    const t = ins.rotaryTables![1]!
    expect(t.k).toBeUndefined() // same tables for q and k
    expect(t.q.cos).toHaveLength(2) // heads
    expect(t.q.cos[0]).toHaveLength(6) // T
    expect(t.q.cos[0]![0]).toHaveLength(16) // d/2 pair values
    // position 0: C = sum over K of A_cos (Pc = 1); padded pairs are 1 (C) and 1 (S)
    const A = ins.fixed["layer1/cosCoef"]!.values
    const col0 = [0, 1, 2, 3, 4, 5].reduce((s, k) => s + A[k * 6 + 0]!, 0)
    expect(t.q.cos[0]![0]![0]).toBeCloseTo(col0, 5)
    expect(t.q.cos[1]![4]![12]).toBe(1)
    expect(t.q.sin[1]![4]![12]).toBe(1)
    expect(JSON.parse(JSON.stringify(ins))).toEqual(ins)
    const text = renderInspection(ins)
    expect(text).toContain("fope (rotary family)")
    expect(text).toContain("K=6")
    expect(text).toContain("layer0/cosCoef")
  })

  it("RoPE tables match cos(t*w), sin(t*w); xPos shows separate q and k tables", () => {
    const ins = inspectEmbedding({ name: "rope", headDim: 8, heads: 1, trainLength: 16, length: 5, seed: 0 })
    const w = ropeFrequencies(8, 10000)
    expect(ins.rotaryTables![0]!.q.sin[0]![4]![1]).toBeCloseTo(Math.sin(4 * w[1]!), 6)
    const x = inspectEmbedding({ name: "xpos", headDim: 8, heads: 1, trainLength: 16, length: 5, seed: 0 })
    expect(x.rotaryTables![0]!.k).toBeDefined()
  })

  it("bias family gives the bias matrix; learned params at init; learned absolute past its table is not applicable", () => {
    const alibi = inspectEmbedding({ name: "alibi", headDim: 8, heads: 4, trainLength: 16, length: 4, seed: 0 })
    expect(alibi.bias![0]!.values[0]![3]![0]).toBeCloseTo(-0.75, 7)
    const kerple = inspectEmbedding({ name: "kerple-log", headDim: 8, heads: 4, trainLength: 16, length: 4, seed: 0 })
    expect(Object.keys(kerple.trainable)).toEqual(["r1", "r2"])
    expect(renderInspection(kerple)).toContain("r1")
    const learned = inspectEmbedding({ name: "learned", headDim: 8, heads: 1, trainLength: 16, length: 32, seed: 0 })
    expect(learned.notApplicable).toMatch(/up to length 16/)
    expect(learned.trainable["table"]!.shape).toEqual([16, 8])
    const yarn = inspectEmbedding({
      name: "rope",
      headDim: 32,
      heads: 1,
      trainLength: 128,
      length: 512,
      seed: 0,
      extension: { method: "yarn" }
    })
    expect(yarn.spectrum.notes).toMatchObject({ lo: 0, hi: 6 })
  })
})
