/**
 * Parity of the wasm kernel overrides (models/engine/wasm-kernels.ts) with the cpu backend.
 *
 * Tolerance for BatchMatMul, stated: for every output element,
 *     |wasm - cpu| <= 1e-5 * (|A| |B|)_ij
 * i.e. relative to the sum of absolute products of that dot product, the natural scale of float32 rounding
 * error (the worst-case bound is about K * 2^-24 relative to it; the sums here have K <= 1024 terms and
 * XNNPACK and the cpu backend add in different orders, so agreement is typically ~1e-7..1e-6 on that scale).
 * UnsortedSegmentSum and Sum: relative to the same kind of scale (sum of |x| per output), 1e-6. GatherV2 and
 * OneHot copy values: exact.
 */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { initEngine, isBatchMatMulOverridden } from "../../../models/engine/index.js"
import { maxRelativeError, onBackend, seededArray, sizeOf } from "./engine-helpers.js"

const MATMUL_TOLERANCE = 1e-5
const SEGMENT_SUM_TOLERANCE = 1e-6

interface Case {
  readonly name: string
  readonly aBatch: number[]
  readonly bBatch: number[]
}

/** Batch classes: none (rank 2), batch 1, batch > 1, 4-D batch, and broadcast of a size-1 batch dim each way. */
const BATCH_CASES: ReadonlyArray<Case> = [
  { name: "no batch (rank 2)", aBatch: [], bBatch: [] },
  { name: "batch 1", aBatch: [1], bBatch: [1] },
  { name: "batch 3", aBatch: [3], bBatch: [3] },
  { name: "4-D batch [2,3]", aBatch: [2, 3], bBatch: [2, 3] },
  { name: "broadcast b: [3] x [1]", aBatch: [3], bBatch: [1] },
  { name: "broadcast a: [1] x [3]", aBatch: [1], bBatch: [3] },
  { name: "4-D broadcast [2,1] x [1,3]", aBatch: [2, 1], bBatch: [1, 3] },
  { name: "4-D broadcast [2,3] x [2,1]", aBatch: [2, 3], bBatch: [2, 1] }
]

const M = 5
const K = 7
const N = 6

const operandShape = (batch: number[], rows: number, cols: number, transpose: boolean): number[] =>
  transpose ? [...batch, cols, rows] : [...batch, rows, cols]

/**
 * One product on the current backend. With `explicitBroadcast` the batch dims are broadcast with
 * tf.broadcastTo first: the reference. tfjs 4.22.0's cpu (and stock wasm) BatchMatMul do not broadcast
 * multi-dim batches numpy-style (they index the flattened batch modulo its size, and return
 * max(batchA, batchB) slices for [2,1] x [1,3]); the override does, so the reference must not rely on it.
 * `abs` computes (|A||B|), the error scale.
 */
const product = (
  aData: Float32Array, aShape: number[], bData: Float32Array, bShape: number[], ta: boolean, tb: boolean,
  options: { abs?: boolean; explicitBroadcast?: boolean } = {}
): tf.Tensor => {
  let a = tf.tensor(aData, aShape)
  let b = tf.tensor(bData, bShape)
  if (options.explicitBroadcast === true) {
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2))
    a = tf.broadcastTo(a, [...batch, ...aShape.slice(-2)])
    b = tf.broadcastTo(b, [...batch, ...bShape.slice(-2)])
  }
  return options.abs === true ? tf.matMul(tf.abs(a), tf.abs(b), ta, tb) : tf.matMul(a, b, ta, tb)
}
const reference = { explicitBroadcast: true }
const referenceScale = { explicitBroadcast: true, abs: true }

describe("BatchMatMul(xnnpack-batched) on wasm vs the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true })
    expect(info.kernelOverrides).toContain("BatchMatMul(xnnpack-batched)")
  })

  it("is the registered wasm BatchMatMul kernel", () => {
    expect(isBatchMatMulOverridden()).toBe(true)
  })

  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      for (const c of BATCH_CASES) {
        it(`${c.name}, transposeA=${ta}, transposeB=${tb}`, async () => {
          const aShape = operandShape(c.aBatch, M, K, ta)
          const bShape = operandShape(c.bBatch, K, N, tb)
          const aData = seededArray(sizeOf(aShape), 11, `a/${c.name}/${ta}/${tb}`)
          const bData = seededArray(sizeOf(bShape), 12, `b/${c.name}/${ta}/${tb}`)
          const cpu = await onBackend("cpu", () => product(aData, aShape, bData, bShape, ta, tb, reference))
          const scale = await onBackend("cpu", () => product(aData, aShape, bData, bShape, ta, tb, referenceScale))
          const wasmShape: number[] = []
          const wasm = await onBackend("wasm", () => {
            const r = product(aData, aShape, bData, bShape, ta, tb)
            wasmShape.push(...r.shape)
            return r
          })
          const outBatch = c.aBatch.map((d, i) => Math.max(d, c.bBatch[i] ?? 1))
          expect(wasmShape).toEqual([...outBatch, M, N])
          expect(wasm.length).toBe(cpu.length)
          expect(maxRelativeError(wasm, cpu, scale)).toBeLessThanOrEqual(MATMUL_TOLERANCE)
        })
      }
    }
  }

  it("rank-mismatched broadcast: [2,3,M,K] x [K,N] and the batch folded into rows", async () => {
    const aShape = [2, 3, M, K]
    const bShape = [K, N]
    const aData = seededArray(sizeOf(aShape), 13, "a/rank")
    const bData = seededArray(sizeOf(bShape), 14, "b/rank")
    const cpu = await onBackend("cpu", () => product(aData, aShape, bData, bShape, false, false, reference))
    const scale = await onBackend("cpu", () => product(aData, aShape, bData, bShape, false, false, referenceScale))
    const wasm = await onBackend("wasm", () => product(aData, aShape, bData, bShape, false, false))
    expect(maxRelativeError(wasm, cpu, scale)).toBeLessThanOrEqual(MATMUL_TOLERANCE)
  })

  it("1024-term dot products (the size of the doc's 1.75e-4 absolute check), transposed and batched", async () => {
    const aShape = [2, 1024, 16] // transposeA: [.., K=1024, M=16]
    const bShape = [2, 8, 1024] // transposeB: [.., N=8, K=1024]
    const aData = seededArray(sizeOf(aShape), 15, "a/long")
    const bData = seededArray(sizeOf(bShape), 16, "b/long")
    const cpu = await onBackend("cpu", () => product(aData, aShape, bData, bShape, true, true))
    const scale = await onBackend("cpu", () => product(aData, aShape, bData, bShape, true, true, { abs: true }))
    const wasm = await onBackend("wasm", () => product(aData, aShape, bData, bShape, true, true))
    expect(maxRelativeError(wasm, cpu, scale)).toBeLessThanOrEqual(MATMUL_TOLERANCE)
    expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-5) // also relative to the largest output
  })

  it("rejects mismatched inner dimensions with the shapes in the message", async () => {
    await tf.setBackend("wasm")
    const a = tf.zeros([2, 3, 4])
    const b = tf.zeros([2, 5, 6])
    expect(() => tf.matMul(a, b)).toThrow(/inner shapes \(4\) and \(5\)/)
    tf.dispose([a, b])
  })

  it("leaves no tensors or wasm data ids behind", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const a = tf.tensor(seededArray(2 * 3 * M * K, 17, "leak/a"), [2, 3, K, M])
    const b = tf.tensor(seededArray(3 * N * K, 18, "leak/b"), [1, 3, N, K])
    const tensors = tf.memory().numTensors
    const ids = backend.numDataIds()
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, true).dispose()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(backend.numDataIds()).toBe(ids)
    tf.dispose([a, b])
  })
})

describe("UnsortedSegmentSum(js) on wasm vs the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    await initEngine({ backend: "wasm", threads: 1, tuned: true })
  })

  it("sums rows into segments, repeated ids accumulate, out-of-range ids are dropped", async () => {
    const xShape = [9, 4, 3]
    const x = seededArray(sizeOf(xShape), 21, "segsum/x")
    const ids = new Int32Array([3, 0, 3, 5, -1, 1, 3, 0, 6]) // 6 >= numSegments and -1: dropped
    const run = () => tf.unsortedSegmentSum(tf.tensor(x, xShape), tf.tensor1d(ids, "int32"), 6)
    const cpu = await onBackend("cpu", run)
    const scale = await onBackend("cpu", () => tf.unsortedSegmentSum(tf.abs(tf.tensor(x, xShape)), tf.tensor1d(ids, "int32"), 6))
    const wasm = await onBackend("wasm", run)
    expect(wasm.length).toBe(6 * 4 * 3)
    expect(maxRelativeError(wasm, cpu, scale.map((s) => s + 1e-30))).toBeLessThanOrEqual(SEGMENT_SUM_TOLERANCE)
    // segments 2 and 4 receive nothing: exact zeros
    expect(Array.from(wasm.slice(2 * 12, 3 * 12)).every((v) => v === 0)).toBe(true)
    expect(Array.from(wasm.slice(4 * 12, 5 * 12)).every((v) => v === 0)).toBe(true)
  })

  it("makes the gradient of tf.gather (an embedding lookup) work on wasm, equal to cpu", async () => {
    const table = seededArray(10 * 8, 22, "gather/table")
    const upstream = seededArray(2 * 5 * 8, 23, "gather/upstream")
    const idx = new Int32Array([1, 4, 4, 9, 0, 1, 1, 7, 3, 4])
    const grad = () => {
      const w = tf.tensor2d(table, [10, 8])
      const c = tf.tensor3d(upstream, [2, 5, 8])
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d(idx, [2, 5], "int32")), c)))
      return g(w)
    }
    const cpu = await onBackend("cpu", grad)
    const wasm = await onBackend("wasm", grad)
    expect(wasm.length).toBe(80)
    expect(maxRelativeError(wasm, cpu)).toBeLessThanOrEqual(SEGMENT_SUM_TOLERANCE)
    expect(Array.from(wasm.slice(2 * 8, 3 * 8)).every((v) => v === 0)).toBe(true) // row 2 never gathered
  })
})

describe("OneHot(js, honours dtype) on wasm vs the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    await initEngine({ backend: "wasm", threads: 1, tuned: true })
  })

  for (const dtype of ["float32", "int32"] as const) {
    it(`${dtype}: equal to cpu, out-of-range indices give a row of offValue`, async () => {
      const run = () => tf.oneHot(tf.tensor2d([3, 0, 9, -1, 12, 5], [2, 3], "int32"), 10, 2, -1, dtype)
      const cpu = await onBackend("cpu", run)
      await tf.setBackend("wasm")
      const t = run()
      expect(t.dtype).toBe(dtype)
      expect(t.shape).toEqual([2, 3, 10])
      const wasm = Array.from(t.dataSync())
      t.dispose()
      expect(wasm).toEqual(Array.from(cpu))
      expect(wasm.slice(0, 10)).toEqual([-1, -1, -1, 2, -1, -1, -1, -1, -1, -1])
    })
  }
})

describe("Sum(js, leading axes), GatherV2(js, axis 0), Identity(shared data) on wasm", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true })
    expect(info.kernelOverrides).toContain("Sum(js, leading axes)")
    expect(info.kernelOverrides).toContain("GatherV2(js, axis 0)")
  })

  const shape = [6, 5, 4]
  const x = seededArray(6 * 5 * 4, 31, "sum/x")
  const cases: ReadonlyArray<{ axis: number | number[]; keepDims: boolean }> = [
    { axis: 0, keepDims: false },
    { axis: [0, 1], keepDims: false },
    { axis: [1, 0], keepDims: true },
    { axis: -3, keepDims: true },
    { axis: 2, keepDims: false }, // not leading: the stock kernel
    { axis: [0, 2], keepDims: false }, // not leading: the stock kernel
    { axis: [0, 1, 2], keepDims: false } // all axes: the stock kernel
  ]
  for (const { axis, keepDims } of cases) {
    it(`sum over axis ${JSON.stringify(axis)}, keepDims ${keepDims}`, async () => {
      const cpuShape: number[] = []
      const cpu = await onBackend("cpu", () => {
        const r = tf.sum(tf.tensor(x, shape), axis, keepDims)
        cpuShape.push(...r.shape)
        return r
      })
      const scale = await onBackend("cpu", () => tf.sum(tf.abs(tf.tensor(x, shape)), axis, keepDims))
      const wasmShape: number[] = []
      const wasm = await onBackend("wasm", () => {
        const r = tf.sum(tf.tensor(x, shape), axis, keepDims)
        wasmShape.push(...r.shape)
        return r
      })
      expect(wasmShape).toEqual(cpuShape)
      expect(maxRelativeError(wasm, cpu, scale)).toBeLessThanOrEqual(SEGMENT_SUM_TOLERANCE)
    })
  }

  it("gathers rows exactly (1-D and 2-D indices, repeats), other axes via the stock kernel", async () => {
    const table = seededArray(7 * 3 * 2, 32, "gather/x")
    const idx2 = new Int32Array([6, 0, 0, 3, 2, 6])
    for (const [indices, ishape, axis] of [[idx2, [2, 3], 0], [idx2.slice(0, 4), [4], 0], [new Int32Array([2, 0, 1]), [3], 1]] as const) {
      const run = () => tf.gather(tf.tensor3d(table, [7, 3, 2]), tf.tensor(indices, [...ishape], "int32"), axis)
      const cpu = await onBackend("cpu", run)
      const wasm = await onBackend("wasm", run)
      expect(Array.from(wasm)).toEqual(Array.from(cpu))
    }
  })

  it("Identity shares the buffer with a reference count: a clone outlives its source, nothing leaks", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const ids = backend.numDataIds()
    const a = tf.tensor1d([1, 2, 3])
    const b = tf.clone(a) // runs the Identity kernel
    expect(backend.numDataIds()).toBe(ids + 1) // one buffer for both
    a.dispose()
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3])
    b.dispose()
    expect(backend.numDataIds()).toBe(ids)
  })

  it("rejects an out-of-range index as the stock kernel does, leaking nothing", async () => {
    await tf.setBackend("wasm")
    const before = tf.memory().numTensors
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2])
    const i = tf.tensor1d([0, 2], "int32")
    expect(() => tf.gather(t, i)).toThrow(/index value 2 is not in \[0, 1\]/)
    tf.dispose([t, i])
    expect(tf.memory().numTensors).toBe(before)
  })
})
