import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { Decoder } from "../../models/decoder.js"
import { SCALES, ScaleNeedsGpuError, assertScaleRunnable, resolveScale, scaleParameterCount } from "../../models/scales.js"
import { nope, shapeOf, useCpu } from "./decoder-helpers.js"

// Non-embedding parameter counts by hand: L (16 d^2 + 2 d) + d with F = 4d.
const EXPECTED: Record<string, number> = {
  nano: 3 * (16 * 64 * 64 + 2 * 64) + 64, // 197,056
  ref: 2 * (16 * 128 * 128 + 2 * 128) + 128, // 524,928
  micro: 4 * (16 * 128 * 128 + 2 * 128) + 128, // 1,049,728
  mini: 5 * (16 * 256 * 256 + 2 * 256) + 256, // 5,245,696
  "60m": 33_563_136, // 8 (16 512^2 + 1024) + 512
  "180m": 134_235_136, // 8 (16 1024^2 + 2048) + 1024
  "1.2b": 1_073_809_408 // 16 (16 2048^2 + 4096) + 2048
}

describe("scales", () => {
  beforeAll(useCpu)

  it("has the expected parameter count for every scale", () => {
    expect(Object.keys(SCALES).sort()).toEqual(Object.keys(EXPECTED).sort())
    for (const [name, s] of Object.entries(SCALES)) {
      expect(scaleParameterCount(s, 256).nonEmbedding, name).toBe(EXPECTED[name])
      expect(scaleParameterCount(s, 256).total, name).toBe(EXPECTED[name]! + 2 * 256 * s.dModel)
      expect(s.dModel % s.heads, name).toBe(0)
      const hd = s.dModel / s.heads
      expect(hd % 2 === 0 && hd >= 16, name).toBe(true)
    }
    // the CPU scales hit their targets (~0.2M, ~1M, ~5M without embeddings)
    expect(EXPECTED.nano! / 0.2e6).toBeCloseTo(1, 0)
    expect(EXPECTED.micro! / 1e6).toBeCloseTo(1, 0)
    expect(EXPECTED.mini! / 5e6).toBeCloseTo(1, 0)
    // the paper's shapes
    expect([SCALES["60m"]!.dModel, SCALES["60m"]!.heads, SCALES["60m"]!.layers]).toEqual([512, 8, 8])
    expect([SCALES["180m"]!.dModel, SCALES["180m"]!.heads, SCALES["180m"]!.layers]).toEqual([1024, 8, 8])
    expect([SCALES["1.2b"]!.dModel, SCALES["1.2b"]!.heads, SCALES["1.2b"]!.layers]).toEqual([2048, 16, 16])
  })

  it("built CPU models have the formula's parameter count", () => {
    for (const name of ["nano", "ref", "micro", "mini"]) {
      const s = resolveScale(name)
      const config = { vocabSize: 256, dModel: s.dModel, heads: s.heads, layers: s.layers, ffnHidden: s.ffnHidden, trainLength: 64 }
      const before = tf.memory().numTensors
      const model = Decoder.create(config, nope(shapeOf(config)), 1)
      expect(model.parameterCount({ includeEmbeddings: false }), name).toBe(EXPECTED[name])
      expect(model.parameterCount(), name).toBe(scaleParameterCount(s, 256).total)
      model.dispose()
      expect(tf.memory().numTensors).toBe(before)
    }
  })

  it("an unknown scale lists the valid ones", () => {
    expect(() => resolveScale("huge")).toThrow(/unknown scale "huge". Valid scales: nano, ref, micro, mini, 60m, 180m, 1.2b/)
  })

  it("refuses a GPU scale on a CPU backend with the reason and the fix; force lets it through", () => {
    const s = resolveScale("60m")
    const wasm = { backend: "wasm", gpu: false, threads: 2 }
    expect(() => assertScaleRunnable(s, wasm, false)).toThrow(ScaleNeedsGpuError)
    try {
      assertScaleRunnable(s, wasm, false)
    } catch (e) {
      const message = (e as Error).message
      expect(message).toMatch(
        /^scale "60m" \(\d+\.\dM parameters\) needs a GPU backend \(webgpu on a hardware adapter, or tensorflow-gpu\); this run uses wasm on 2 CPU threads/
      )
      expect(message).toMatch(/one step .* would take about [\d.]+ minutes/)
      expect(message).toContain("or install @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1), or pass --force-scale to start anyway.")
    }
    expect(() => assertScaleRunnable(s, { backend: "cpu", gpu: false }, false)).toThrow(/this run uses cpu,/)
    expect(() => assertScaleRunnable(s, wasm, false, { vocabSize: 256, batchSize: 8, seqLength: 512, steps: 1000 })).toThrow(
      /minutes \(1000 steps: about [\d.]+ hours\)\. Run it where WebGPU finds a GPU/
    )
    const software = { backend: "webgpu", gpu: false, webgpu: { adapter: { software: true, device: "llvmpipe", description: "Mesa" } } }
    expect(() => assertScaleRunnable(s, software, false)).toThrow(/this run uses webgpu on a SOFTWARE adapter \(llvmpipe\).*--force-scale/)
    expect(() => assertScaleRunnable(s, software, true)).not.toThrow()
    expect(() => assertScaleRunnable(s, wasm, true)).not.toThrow()
    expect(() => assertScaleRunnable(s, { backend: "tensorflow-gpu", gpu: true }, false)).not.toThrow()
    expect(() => assertScaleRunnable(resolveScale("micro"), wasm, false)).not.toThrow()
    // with force, the configuration still resolves (the model itself is not built here: 60m is slow to build on cpu)
    expect(scaleParameterCount(s, 50257).total).toBe(33_563_136 + 2 * 50257 * 512)
  })
})
