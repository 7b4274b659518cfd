/**
 * The fused AdamW kernel (models/engine/wasm-adamw.ts, registered as FusedAdamW on tuned wasm) against the op
 * path of models/train/adamw.ts: bitwise equal parameters and moments after several updates, for sizes that
 * exercise the 4-lane part and the scalar tail, with and without decay, with and without gradient scaling. On the
 * engine with native: false (with the native products the C kernel runs instead; native-kernels.test.ts holds it to
 * this kernel's bits).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  FUSED_ADAMW_KERNEL,
  FUSED_ADAMW_KERNEL_NAME,
  hasFusedAdamW,
  initEngine,
  installOverride,
  restoreOverride
} from "../../models/engine/index.js"
import { AdamW } from "../../models/train/adamw.js"
import { seededArray } from "./engine/engine-helpers.js"

let variableNames = 0
const SHAPES: ReadonlyArray<number[]> = [[7], [5, 13], [64, 48], [3]]
const CONFIG = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }

/** Four updates from the same start with the same gradients; returns every parameter and moment, as bits. */
const runUpdates = (fused: boolean, backend: "wasm" | "cpu" = "wasm"): Buffer[] => {
  if (fused) installOverride(FUSED_ADAMW_KERNEL_NAME)
  else restoreOverride(FUSED_ADAMW_KERNEL_NAME)
  expect(hasFusedAdamW("wasm")).toBe(fused)
  expect(tf.getBackend()).toBe(backend)
  const variables = SHAPES.map((shape, i) =>
    tf.variable(
      tf.tensor(
        seededArray(
          shape.reduce((p, d) => p * d, 1),
          100 + i,
          `adamw/p${i}`
        ),
        shape
      ),
      true,
      `adamw-fused/${backend}/${fused}/${i}/${++variableNames}`
    )
  )
  const optimizer = new AdamW(
    variables.map((variable, i) => ({ name: `p${i}`, variable, decay: i % 2 === 1 })),
    CONFIG
  )
  for (let step = 0; step < 4; step++) {
    const grads = SHAPES.map((shape, i) =>
      tf.tensor(
        seededArray(
          shape.reduce((p, d) => p * d, 1),
          200 + 10 * step + i,
          `adamw/g${i}/${step}`,
          0.5 ** step
        ),
        shape
      )
    )
    optimizer.apply(grads, 3e-3 * (step + 1), step === 2 ? 0.37 : 1)
    tf.dispose(grads)
  }
  const state = optimizer.state()
  const out = [
    ...variables.map((v) => Buffer.from((v.dataSync() as Float32Array).buffer.slice(0))),
    ...state.tensors.map((t) => Buffer.from(t.data.buffer.slice(0)))
  ]
  optimizer.dispose()
  tf.dispose(variables)
  return out
}

describe("FusedAdamW (wasm simd) == the AdamW op path, bitwise", () => {
  beforeAll(async () => {
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(info.kernelOverrides).toContain(FUSED_ADAMW_KERNEL)
  })
  afterAll(() => installOverride(FUSED_ADAMW_KERNEL_NAME))

  it("parameters and both moments after 4 updates (decay on some, a clipped step, sizes 3..3072)", () => {
    const ops = runUpdates(false)
    const fused = runUpdates(true)
    expect(fused.length).toBe(ops.length)
    expect(fused.length).toBe(3 * SHAPES.length)
    fused.forEach((bits, i) => expect(bits.equals(ops[i]!), `tensor ${i}`).toBe(true))
    // and the update did something: parameters moved from their start
    const start = Buffer.from(seededArray(7, 100, "adamw/p0").buffer)
    expect(fused[0]!.equals(start)).toBe(false)
  })

  it("agrees with the cpu backend's op path within 1e-6 relative (the cpu backend's float32 ops: the same IEEE operations)", async () => {
    const fused = runUpdates(true)
    await initEngine({ backend: "cpu" })
    const cpu = runUpdates(false, "cpu")
    await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(cpu.length).toBe(fused.length)
    fused.forEach((bits, i) => {
      const a = new Float32Array(bits.buffer, bits.byteOffset, bits.length / 4)
      const b = new Float32Array(cpu[i]!.buffer, cpu[i]!.byteOffset, cpu[i]!.length / 4)
      const worst = a.reduce((w, x, j) => Math.max(w, Math.abs(x - b[j]!) / Math.max(Math.abs(b[j]!), 1e-12)), 0)
      expect(worst, `tensor ${i}`).toBeLessThanOrEqual(1e-6)
    })
  })

  it("keeps the tensor count constant across updates", () => {
    installOverride(FUSED_ADAMW_KERNEL_NAME)
    const variable = tf.variable(tf.zeros([33]), true, "adamw-fused/count")
    const optimizer = new AdamW([{ name: "x", variable, decay: true }], CONFIG)
    const counts: number[] = []
    for (let i = 0; i < 3; i++) {
      const g = tf.ones([33])
      optimizer.apply([g], 1e-3, 1)
      g.dispose()
      counts.push(tf.memory().numTensors)
    }
    expect(new Set(counts).size).toBe(1)
    optimizer.dispose()
    variable.dispose()
  })

  it("rejects a gradient of the wrong size with the sizes in the message", () => {
    installOverride(FUSED_ADAMW_KERNEL_NAME)
    const variable = tf.variable(tf.zeros([4]), true, "adamw-fused/wrong")
    const optimizer = new AdamW([{ name: "x", variable, decay: false }], CONFIG)
    const g = tf.ones([5])
    expect(() => optimizer.apply([g], 1e-3, 1)).toThrow(/g must be float32 with 4 values/)
    tf.dispose([g, variable])
    optimizer.dispose()
  })
})
