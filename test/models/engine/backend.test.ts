import * as tf from "@tensorflow/tfjs"
import { batchMatMulLabel } from "../../../models/engine/kernels/products.js"
import { describe, expect, it } from "vitest"
import { BACKENDS, describeEngine, initEngine, type BackendRequest } from "../../../models/engine/index.js"
import { tunedKernelLabels } from "./engine-helpers.js"

describe("initEngine", () => {
  it("rejects an unknown backend, listing the valid ones", async () => {
    await expect(initEngine({ backend: "webgl" as BackendRequest })).rejects.toThrow(
      /Unknown backend "webgl": use one of auto, tensorflow, webgpu, wasm, cpu/
    )
    expect(BACKENDS).toEqual(["auto", "tensorflow", "webgpu", "wasm", "cpu"])
  })

  it("rejects a thread count that is not a positive integer", async () => {
    await expect(initEngine({ backend: "wasm", threads: 0 })).rejects.toThrow(/threads must be a positive integer/)
  })

  it("'tensorflow' without the native binding: says it is not installed, why, and how to get it", async () => {
    // The optional packages cannot install on this machine (no network for libtensorflow); if a developer has
    // them, this expectation does not apply.
    const err = await initEngine({ backend: "tensorflow" }).then(
      () => null,
      (e: unknown) => e as Error
    )
    if (err === null) return expect(tf.getBackend()).toBe("tensorflow")
    expect(err.message).toMatch(/not installed/)
    expect(err.message).toMatch(/downloads libtensorflow/)
    expect(err.message).toMatch(/npm i @tensorflow\/tfjs-node-gpu/)
    expect(err.message).toMatch(/CUDA 11\.2 and cuDNN 8\.1/)
    expect(err.message).toMatch(/--backend wasm/)
  })

  it("'auto' falls back to tuned wasm and says why", async () => {
    const info = await initEngine({ backend: "auto", threads: 1 })
    if (info.backend !== "wasm") return // a developer machine with the native binding or a hardware WebGPU adapter
    expect(info.requested).toBe("auto")
    expect(info.backend).toBe("wasm")
    expect(tf.getBackend()).toBe("wasm")
    expect(info.kernelOverrides).toContain(batchMatMulLabel())
    expect(info.notes?.[0]).toMatch(/native TensorFlow not installed/)
    expect(describeEngine(info)).toMatch(/^engine wasm \(requested auto\) \| tfjs 4\.22\.0/)
  })

  it("switches backends and tuning within one process, and computes on each", async () => {
    const cpu = await initEngine({ backend: "cpu" })
    expect(cpu).toMatchObject({ backend: "cpu", threads: 1, gpu: false, kernelOverrides: [], deterministic: true })
    expect(tf.getBackend()).toBe("cpu")
    const stock = await initEngine({ backend: "wasm", threads: 1, tuned: false })
    expect(stock.kernelOverrides).toEqual(["UnsortedSegmentSum(js)", "OneHot(js, honours dtype)"])
    expect(stock.simd).toBe(true)
    const viaStock = tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 4, 5]), false, false).dataSync()[0])
    const tuned = await initEngine({ backend: "wasm", threads: 1, tuned: true })
    expect(tuned.kernelOverrides).toEqual(tunedKernelLabels())
    const viaTuned = tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 4, 5]), false, false).dataSync()[0])
    expect(viaStock).toBe(4)
    expect(viaTuned).toBe(4)
    // (where the native addon is absent or HARNESS_NATIVE=off, the record carries a note saying why)
    expect(describeEngine(tuned)).toBe(
      `engine wasm | tfjs 4.22.0 | backend 4.22.0 | 1 thread | simd | no-gpu | kernels [${tunedKernelLabels().join(", ")}] | deterministic` +
        (tuned.notes !== undefined ? ` | notes: ${tuned.notes.join("; ")}` : "")
    )
  })

  it("re-creates the wasm backend on a thread change; overridden and delegated kernels work on the new module", async () => {
    await initEngine({ backend: "wasm", threads: 1, tuned: true })
    const info = await initEngine({ backend: "wasm", threads: 2, tuned: true })
    expect([1, 2]).toContain(info.threads) // 1 only if the threaded build could not start (then a note says so)
    if (info.threads === 1) expect(info.notes?.join(" ")).toMatch(/fell back to 1 thread/)
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3])
    expect(Array.from(tf.sum(x, 1).dataSync())).toEqual([6, 15]) // innermost axis: delegated to the stock kernel
    expect(Array.from(tf.sum(x, 0).dataSync())).toEqual([5, 7, 9]) // leading axis: the JS override
    expect(Array.from(tf.matMul(x, x, false, true).dataSync())).toEqual([14, 32, 32, 77])
    x.dispose()
    const back = await initEngine({ backend: "wasm", threads: 1, tuned: false })
    expect(back.threads).toBe(1)
    // The thread change re-created the backend: tensors that lived on the old one are gone, make new ones.
    const y = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3])
    expect(Array.from(tf.sum(y, 0).dataSync())).toEqual([5, 7, 9]) // stock Sum, set up again for the new module
    expect(Array.from(tf.matMul(y, y, false, true).dataSync())).toEqual([14, 32, 32, 77]) // stock BatchMatMul
    y.dispose()
  })
})
