/**
 * The WebGPU engine against tfjs's cpu backend on whatever adapter Dawn finds (here: Mesa llvmpipe, software):
 * every position embedding's hooks, the decoder's forward pass, one full training step
 * (models/engine/webgpu-parity.ts states the tolerances; `harness doctor --parity` runs the same checks).
 *
 * Without an adapter the tests skip locally, saying why; under CI=true they FAIL: CI must install the software
 * adapter's packages (.ci/run does).
 */
import { afterAll, describe, expect, it } from "vitest"
import { EMBEDDINGS } from "../../../embeddings/registry.js"
import { initEngine, probeWebGpu } from "../../../models/engine/index.js"
import { STEP_EMBEDDINGS, forwardParity, hookParity, stepParity, type ParityCheck } from "../../../models/engine/webgpu-parity.js"

const probe = await probeWebGpu()
const hasAdapter = probe.adapters.length > 0
const inCi = process.env.CI === "true"
const why = `no WebGPU adapter: ${probe.problems.join("; ")}`

const expectWithin = (checks: ReadonlyArray<ParityCheck>): void => {
  expect(checks.length).toBeGreaterThan(0)
  for (const c of checks) expect(c.error, c.what).toBeLessThanOrEqual(c.tolerance)
}

describe.skipIf(!hasAdapter && !inCi)(`WebGPU parity with the cpu backend${hasAdapter ? "" : ` (skipped: ${why})`}`, () => {
  afterAll(async () => {
    await initEngine({ backend: "cpu" })
  })

  it("an adapter exists (under CI=true a missing one is a failure, not a skip)", () => {
    expect(hasAdapter, why).toBe(true)
  })

  it.each(Object.keys(EMBEDDINGS))("%s: every hook (input, queryKey, scoreBias) matches cpu", async (name) => {
    expectWithin(await hookParity(name))
  })

  it.each(Object.keys(EMBEDDINGS))("decoder forward with %s: logits match cpu", async (name) => {
    expectWithin([await forwardParity(name)])
  })

  it.each(STEP_EMBEDDINGS)("one training step with %s (loss, gradient norm, AdamW update) matches cpu", async (name) => {
    expectWithin(await stepParity(name))
  })

  it("the engine record names the adapter, Dawn and tfjs, and records reproducibility as within a tolerance", async () => {
    const engine = await initEngine({ backend: "webgpu" })
    const a = engine.webgpu!.adapter
    expect(engine).toMatchObject({ backend: "webgpu", tfjsVersion: "4.22.0", backendVersion: "4.22.0", deterministic: false })
    expect(engine.webgpu!.dawn).toMatch(/^webgpu 0\.6\.2/)
    expect(a.maxStorageBufferBindingSize).toBeGreaterThan(0)
    expect(a.maxBufferSize).toBeGreaterThanOrEqual(a.maxStorageBufferBindingSize)
    expect(["vulkan", "opengl", "opengles"]).toContain(a.dawnBackend)
    if (a.software) expect(engine.notes?.join(" ")).toMatch(/SOFTWARE WebGPU adapter/)
    expect(engine.gpu).toBe(!a.software)
  })
})
