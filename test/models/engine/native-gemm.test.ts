/**
 * The native product path (models/engine/native-gemm.ts, native/dnnl-gemm.c): what the engine records, the addon's
 * bounds checks, and reproducibility on the reference model's shapes with 1 and 2 threads. Parity with the cpu
 * backend for every transpose / batch / broadcast case and one training step runs in wasm-kernels.test.ts and
 * training-parity.test.ts (their GEMM_PATHS include this path where the addon is built).
 *
 * Where the addon is not built these tests check the fallback instead; HARNESS_REQUIRE_NATIVE=1 (set by .ci/run
 * once the library is installed) turns a missing addon into a failure.
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, describe, expect, it } from "vitest"
import { initEngine } from "../../../models/engine/index.js"
import { describeNativeGemm, loadNativeGemm, NATIVE_GEMM_FIELDS } from "../../../models/engine/native-gemm.js"
import { seededArray } from "./engine-helpers.js"

const load = loadNativeGemm()

describe("native products: loading and the engine record", () => {
  it(`the addon loads, or says why (${load.ok ? "loaded" : load.reason})`, () => {
    if (process.env.HARNESS_REQUIRE_NATIVE === "1") expect(load.ok, load.ok ? "" : load.reason).toBe(true)
    if (!load.ok) expect(load.reason).toMatch(/HARNESS_NATIVE=off|not built|did not load|not found/)
  })

  it("tuned wasm records the library, its version and CPU kernel; native: false records the WebAssembly GEMM", async () => {
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true })
    if (load.ok) {
      expect(info.native).toEqual(load.info)
      expect(info.native?.library).toBe("oneDNN")
      expect(info.native?.version).toMatch(/^\d+\.\d+\.\d+$/)
      expect(info.native?.isa).not.toMatch(/^cpu_isa_/)
      expect(info.kernelOverrides[0]).toBe(`BatchMatMul(${describeNativeGemm(load.info)})`)
    } else {
      expect(info.native).toBeUndefined()
      expect(info.notes?.join(" ")).toMatch(/native kernels not in use .*WebAssembly GEMM/)
    }
    const wasm = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(wasm.native).toBeUndefined()
    expect(wasm.kernelOverrides[0]).toMatch(/^BatchMatMul\(simd gemm/)
    const stock = await initEngine({ backend: "wasm", threads: 1, tuned: false })
    expect(stock.native).toBeUndefined()
  })
})

describe.runIf(load.ok)("native products on the wasm heap", () => {
  afterAll(async () => {
    await initEngine({ backend: "wasm", threads: 1 })
  })

  it("refuses a product that reaches past the heap, a misaligned offset, a short leading dimension", () => {
    if (!load.ok) return
    const heap = new Uint8Array(new SharedArrayBuffer(4096))
    const row = (fields: number[]) => Uint32Array.from(fields)
    // [2,3] x [3,2] at byte offsets 0, 64, 128: fine; then B moved past the end, A misaligned, lda too small
    expect(() => load.addon.gemm(heap, row([0, 0, 2, 2, 3, 0, 3, 64, 2, 128, 2]), 1)).not.toThrow()
    expect(() => load.addon.gemm(heap, row([0, 0, 2, 2, 3, 0, 3, 4080, 2, 128, 2]), 1)).toThrow(/past the end of the heap/)
    expect(() => load.addon.gemm(heap, row([0, 0, 2, 2, 3, 2, 3, 64, 2, 128, 2]), 1)).toThrow(/misaligned/)
    expect(() => load.addon.gemm(heap, row([0, 0, 2, 2, 3, 0, 2, 64, 2, 128, 2]), 1)).toThrow(/leading dimension/)
    expect(() => load.addon.gemm(heap, row(new Array(NATIVE_GEMM_FIELDS).fill(0)), 2)).toThrow(/shorter than count/)
  })

  // The reference model's products (batch 8 x 128 tokens, d 128, MLP 512, 4 heads of 32): forward, both gradients.
  const products = (): Float32Array[] =>
    tf
      .tidy(() => {
        const x = tf.tensor2d(seededArray(1024 * 128, 51, "native/x"), [1024, 128])
        const h = tf.tensor2d(seededArray(1024 * 512, 52, "native/h"), [1024, 512])
        const w = tf.tensor2d(seededArray(128 * 512, 53, "native/w", 0.1), [128, 512])
        const q = tf.tensor4d(seededArray(8 * 4 * 128 * 32, 54, "native/q"), [8, 4, 128, 32])
        const k = tf.tensor4d(seededArray(8 * 4 * 128 * 32, 55, "native/k"), [8, 4, 128, 32])
        return [
          tf.matMul(x, w),
          tf.matMul(h, w, false, true),
          tf.matMul(x, h, true, false),
          tf.matMul(q, k, false, true),
          tf.matMul(q, k, true, false)
        ].map((t) => t.dataSync() as Float32Array)
      })
      .map((a) => Float32Array.from(a))

  const bits = (arrays: Float32Array[]): string[] => arrays.map((a) => Buffer.from(a.buffer).toString("base64"))

  it("reference-model products: bitwise the same on rerun, with 1 and with 2 threads", async () => {
    await initEngine({ backend: "wasm", threads: 1, tuned: true })
    const one = bits(products())
    expect(bits(products())).toEqual(one)
    const info = await initEngine({ backend: "wasm", threads: 2, tuned: true })
    if (info.threads !== 2) return // the threaded build did not start here (initEngine says so in its notes)
    const two = bits(products())
    expect(bits(products())).toEqual(two)
    console.info(`native products, 2 threads ${two.every((b, i) => b === one[i]) ? "bitwise equal to" : "differ from"} 1 thread`)
  }, 300_000) // four rounds of the model's products and a threaded backend start: 61 s measured at load ~30
})
