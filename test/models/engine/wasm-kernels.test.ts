/**
 * Parity of the wasm kernel overrides (models/engine/kernels/) with the cpu backend.
 *
 * Tolerance for BatchMatMul, stated: for every output element,
 *     |wasm - cpu| <= 1e-5 * (|A| |B|)_ij
 * i.e. relative to the sum of absolute products of that dot product, the natural scale of float32 rounding
 * error (the worst-case bound is about K * 2^-24 relative to it; the sums here have K <= 1024 terms and
 * XNNPACK and the cpu backend add in different orders, so agreement is typically ~1e-7..1e-6 on that scale).
 * UnsortedSegmentSum and Sum: relative to the same kind of scale (sum of |x| per output), 1e-6. GatherV2 and
 * OneHot copy values: exact.
 *
 * The JS kernels are tested on the engine with native: false: with the native products, the C kernels of
 * kernels/native.ts take their cases (native-kernels.test.ts holds those to these kernels' bits).
 */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { batchMatMulLabel } from "../../../models/engine/kernels/products.js"
import { initEngine, isOverrideInstalled } from "../../../models/engine/index.js"
import { GEMM_PATHS, maxRelativeError, onBackend, seededArray, sizeOf } from "./engine-helpers.js"

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
  aData: Float32Array,
  aShape: number[],
  bData: Float32Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
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

// Every case on each product path: the WebAssembly SIMD GEMM, and the native library where its addon is built.
for (const path of GEMM_PATHS) {
  describe(`BatchMatMul (${path.name}) on wasm vs the cpu backend`, () => {
    beforeAll(async () => {
      await initEngine({ backend: "cpu" })
      const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: path.native })
      expect(info.kernelOverrides).toContain(batchMatMulLabel())
      expect(info.native !== undefined).toBe(path.native)
    })

    it("is the registered wasm BatchMatMul kernel", () => {
      expect(isOverrideInstalled("BatchMatMul")).toBe(true)
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

    // The kernel multiplies either directly (A B) or swapped ((B^T A^T)^T), whichever puts the larger of M, N in the
    // rows: the cases above (N > M) take the swapped way unless a batch dim broadcasts; these take the direct way
    // (N < M) and the tie (N = M, fewest copies).
    for (const [m, n] of [
      [6, 5],
      [5, 5],
      [1, 9],
      [9, 1]
    ] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`M=${m}, N=${n}, batch [2,3], transposeA=${ta}, transposeB=${tb}`, async () => {
            const aShape = operandShape([2, 3], m, K, ta)
            const bShape = operandShape([2, 3], K, n, tb)
            const aData = seededArray(sizeOf(aShape), 41, `a/roles/${m}/${n}/${ta}/${tb}`)
            const bData = seededArray(sizeOf(bShape), 42, `b/roles/${m}/${n}/${ta}/${tb}`)
            const cpu = await onBackend("cpu", () => product(aData, aShape, bData, bShape, ta, tb))
            const scale = await onBackend("cpu", () => product(aData, aShape, bData, bShape, ta, tb, { abs: true }))
            const wasm = await onBackend("wasm", () => product(aData, aShape, bData, bShape, ta, tb))
            expect(wasm.length).toBe(6 * m * n)
            expect(maxRelativeError(wasm, cpu, scale)).toBeLessThanOrEqual(MATMUL_TOLERANCE)
          })
        }
      }
    }

    it("the swapped and the direct way give bitwise the same product: A B = (B^T A^T)^T", async () => {
      // [1024, 128]^T x [1024, 512] (a weight gradient of the reference model) runs swapped (N = 512 > M = 128);
      // the same product asked as (B^T A^T)^T has M = 512 > N = 128 and runs direct.
      const x = seededArray(1024 * 128, 43, "roles/x")
      const dy = seededArray(1024 * 512, 44, "roles/dy")
      await tf.setBackend("wasm")
      const [viaSwap, viaDirect] = tf.tidy(() => {
        const a = tf.tensor2d(x, [1024, 128])
        const b = tf.tensor2d(dy, [1024, 512])
        return [tf.matMul(a, b, true, false).dataSync(), tf.transpose(tf.matMul(b, a, true, false)).dataSync()]
      })
      expect(viaSwap.length).toBe(128 * 512)
      expect(Buffer.from(viaSwap.buffer).equals(Buffer.from(viaDirect.buffer))).toBe(true)
    })

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
}

describe("UnsortedSegmentSum(js) on wasm vs the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
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
    expect(
      maxRelativeError(
        wasm,
        cpu,
        scale.map((s) => s + 1e-30)
      )
    ).toBeLessThanOrEqual(SEGMENT_SUM_TOLERANCE)
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
    await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
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
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
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
    for (const [indices, ishape, axis] of [
      [idx2, [2, 3], 0],
      [idx2.slice(0, 4), [4], 0],
      [new Int32Array([2, 0, 1]), [3], 1]
    ] as const) {
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

describe("Transpose(js, matrix swaps) and Cast(shared data) on wasm", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(info.kernelOverrides).toContain("Transpose(js, matrix swaps)")
    expect(info.kernelOverrides).toContain("Cast(shared data when the dtype is unchanged)")
  })

  // matrix swaps (rows below, at and above the 8-row pass, size-1 axes, merged axes) and permutations the stock
  // kernel keeps (rows of the last axis moving, rank 5, identity)
  const cases: ReadonlyArray<{ shape: number[]; perm: number[] }> = [
    { shape: [5, 7], perm: [1, 0] },
    { shape: [8, 3], perm: [1, 0] },
    { shape: [17, 9], perm: [1, 0] },
    { shape: [2, 3, 9, 7], perm: [0, 1, 3, 2] },
    { shape: [3, 1, 5, 7], perm: [0, 1, 3, 2] },
    { shape: [4, 1, 5], perm: [2, 1, 0] },
    { shape: [2, 3, 4, 5], perm: [2, 3, 0, 1] },
    { shape: [4, 1, 5], perm: [0, 2, 1] },
    { shape: [2, 6, 3, 4], perm: [0, 2, 1, 3] },
    { shape: [2, 3, 2, 3, 2], perm: [0, 3, 1, 4, 2] },
    { shape: [3, 4], perm: [0, 1] }
  ]
  for (const { shape, perm } of cases) {
    for (const dtype of ["float32", "int32"] as const) {
      it(`${dtype} [${shape}] perm [${perm}]: exactly the cpu result`, async () => {
        const data = seededArray(sizeOf(shape), 51, `transpose/${shape}/${perm}`, 1000)
        const run = () => tf.transpose(tf.tensor(dtype === "int32" ? Int32Array.from(data, Math.round) : data, shape, dtype), perm)
        const cpu = await onBackend("cpu", run)
        const wasmShape: number[] = []
        const wasm = await onBackend("wasm", () => {
          const r = run()
          wasmShape.push(...r.shape)
          return r
        })
        expect(wasmShape).toEqual(perm.map((p) => shape[p]))
        expect(Array.from(wasm)).toEqual(Array.from(cpu))
      })
    }
  }

  it("bool transposes go to the stock kernel; nothing leaks", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const ids = backend.numDataIds()
    const t = tf.tidy(() => tf.transpose(tf.tensor2d([1, 0, 0, 1, 1, 0], [2, 3], "bool")))
    expect(t.dtype).toBe("bool")
    expect(Array.from(t.dataSync())).toEqual([1, 1, 0, 1, 0, 0])
    t.dispose()
    expect(backend.numDataIds()).toBe(ids)
  })

  it("Cast to the same dtype shares the buffer; real casts convert as the stock kernel does", async () => {
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const ids = backend.numDataIds()
    const a = tf.tensor1d([1.5, -2.25, 3])
    const same = tf.cast(a, "float32")
    expect(backend.numDataIds()).toBe(ids + 1) // one buffer for both
    a.dispose()
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3])
    const ints = tf.tensor1d([3, -4, 0], "int32")
    const bools = tf.tensor1d([true, false, true], "bool")
    const asInt = tf.cast(same, "int32")
    const back = tf.cast(ints, "float32")
    const fromBool = tf.cast(bools, "float32")
    expect(backend.numDataIds()).toBe(ids + 6) // three real conversions: three new buffers
    expect(asInt.dtype).toBe("int32")
    expect(Array.from(asInt.dataSync())).toEqual([1, -2, 3]) // the stock conversion (Int32Array.set truncates)
    expect(Array.from(back.dataSync())).toEqual([3, -4, 0])
    expect(Array.from(fromBool.dataSync())).toEqual([1, 0, 1])
    tf.dispose([same, ints, bools, asInt, back, fromBool])
    expect(backend.numDataIds()).toBe(ids)
  })
})

describe("Sum(js, leading axes) adds rows in order, each addition rounded to float32", () => {
  beforeAll(async () => {
    await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
  })
  // rows around the 4-row pass (remainders 0..3) and a training-size case
  for (const rows of [1, 2, 4, 5, 6, 7, 9, 1024]) {
    it(`[${rows}, 33] over axis 0: bitwise the sequential float32 sum`, async () => {
      const cols = 33
      const x = seededArray(rows * cols, 61, `sum/rows/${rows}`, 3)
      const expected = new Float32Array(cols)
      for (let j = 0; j < cols; j++) {
        let acc = x[j]
        for (let r = 1; r < rows; r++) acc = Math.fround(acc + x[r * cols + j])
        expected[j] = acc
      }
      const wasm = await onBackend("wasm", () => tf.sum(tf.tensor2d(x, [rows, cols]), 0))
      expect(Buffer.from(wasm.buffer).equals(Buffer.from(expected.buffer))).toBe(true)
    })
  }
})

describe("Slice, SplitV, Concat (js, row copies) on wasm: exactly the cpu results", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" })
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(info.kernelOverrides).toContain("Slice/SplitV/Concat(js, row copies)")
  })

  const shape = [3, 4, 5, 6]
  const data = seededArray(sizeOf(shape), 71, "slice/x", 100)
  const other = seededArray(sizeOf(shape), 72, "slice/y", 100)
  // (not tf.reverse for the second operand: tfjs-backend-wasm 4.22.0's Reverse corrupts the heap on bool tensors)
  const same = async (
    name: string,
    run: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor | tf.Tensor[],
    dtype: "float32" | "int32" | "bool" = "float32"
  ) => {
    const typed = (d: Float32Array) =>
      dtype === "float32" ? d : dtype === "int32" ? Int32Array.from(d, Math.round) : Uint8Array.from(d, (v) => (v > 0 ? 1 : 0))
    const both = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend)
      return tf.tidy(() => {
        const r = run(tf.tensor(typed(data), shape, dtype), tf.tensor(typed(other), shape, dtype))
        return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }))
      })
    }
    const cpu = await both("cpu")
    const wasm = await both("wasm")
    expect(wasm, name).toEqual(cpu)
  }

  for (const dtype of ["float32", "int32", "bool"] as const) {
    it(`${dtype}: slices along one axis (each axis, at the edges, empty), and across several axes (stock)`, async () => {
      await same("axis 0", (x) => tf.slice(x, [1, 0, 0, 0], [2, -1, -1, -1]), dtype)
      await same("axis 1", (x) => tf.slice(x, [0, 1, 0, 0], [-1, 3, -1, -1]), dtype)
      await same("axis 2, the end", (x) => tf.slice(x, [0, 0, 3, 0], [-1, -1, 2, -1]), dtype)
      await same("axis 3 (short rows)", (x) => tf.slice(x, [0, 0, 0, 2], [-1, -1, -1, 3]), dtype)
      await same("whole", (x) => tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, -1]), dtype)
      await same("empty", (x) => tf.slice(x, [0, 0, 0, 2], [-1, -1, -1, 0]), dtype)
      await same("two axes (stock)", (x) => tf.slice(x, [1, 0, 2, 0], [1, -1, 2, -1]), dtype)
    })
    it(`${dtype}: split into equal and unequal parts along each axis`, async () => {
      for (let axis = 0; axis < 4; axis++)
        await same(`split 2 on axis ${axis}`, (x) => tf.split(x, shape[axis] % 2 === 0 ? 2 : 1, axis), dtype)
      await same("split [1, 3, 2] on the last axis", (x) => tf.split(x, [1, 3, 2], 3), dtype)
      await same("split [2, -1] on axis 1", (x) => tf.split(x, [1, -1], 1), dtype)
    })
    it(`${dtype}: concat of 2 and 3 parts along each axis, with an empty part`, async () => {
      for (let axis = 0; axis < 4; axis++) await same(`concat on axis ${axis}`, (x, y) => tf.concat([x, y], axis), dtype)
      await same("concat of 3 on the last axis", (x) => tf.concat([x, tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, 2]), x], 3), dtype)
      await same("concat with an empty part", (x) => tf.concat([tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 0]), x], 3), dtype)
      await same(
        "long rows (>= 256 elements)",
        (x) => tf.concat([tf.reshape(x, [3, 120]), tf.reshape(x, [3, 120]), tf.reshape(x, [3, 120])], 1),
        dtype
      )
    })
  }

  it("gradients through split and concat (the rotary half-swap) equal cpu exactly, nothing leaks", async () => {
    const grad = () => {
      const x = tf.tensor(data, shape)
      return tf.grad((t: tf.Tensor) => {
        const [lo, hi] = tf.split(t, 2, 3)
        return tf.sum(tf.mul(tf.concat([tf.neg(hi), lo], 3), tf.tensor(other, shape)))
      })(x)
    }
    const cpu = await onBackend("cpu", grad)
    await tf.setBackend("wasm")
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const ids = backend.numDataIds()
    const wasm = await onBackend("wasm", grad)
    expect(backend.numDataIds()).toBe(ids)
    expect(Array.from(wasm)).toEqual(Array.from(cpu))
  })
})
