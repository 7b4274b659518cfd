/**
 * The WebAssembly SIMD GEMM (models/engine/wasm-gemm.ts) and its use for batched products on the wasm backend.
 *
 * Claims checked, all bitwise (no tolerance):
 *  - the assembled kernel computes every output as 0 + a_0 b_0 + a_1 b_1 + ... in float32, k in order (a JS
 *    reference with Math.fround after every operation), for tile-aligned and ragged shapes, row-major and
 *    transposed A, over a plain and a shared memory;
 *  - on the tfjs wasm backend, a batched product through it equals the same product through XNNPACK, for every
 *    transpose and broadcast class (so switching kernels changes no result anywhere);
 *  - the two-thread team (a helper worker takes half the slices) equals one thread.
 * With fused multiply-add (the tuned engine's default where the CPU has it) the products round once per term, so
 * they are checked against a float64 reference within the matmul tolerance, and for determinism (twice, and one
 * thread vs a team, bitwise).
 * Agreement with the cpu backend within the matmul tolerance is test/models/engine/wasm-kernels.test.ts (its
 * batched cases run through this kernel).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { initEngine } from "../../../models/engine/index.js"
import {
  DEFAULT_BLOCKING,
  GEMM_ARGS,
  GemmTeam,
  gemmModuleBytes,
  instantiateGemm,
  type GemmBlocking
} from "../../../models/engine/wasm-gemm.js"
import { relaxedSimd } from "../../../models/engine/wasm-assembler.js"
import { batchMatMulLabel, gemmUsesFusedMadd, setGemmFma, setSimdGemmPolicy } from "../../../models/engine/kernels/products.js"
import { seededArray, sizeOf } from "./engine-helpers.js"

const WebAssemblyApi = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer } } }).WebAssembly

const memory = (shared: boolean) => new WebAssemblyApi.Memory(shared ? { initial: 32, maximum: 65536, shared: true } : { initial: 32 })

/** C[i,j] = sum over k in order of fround(a b), accumulated in float32 from 0. */
const referenceProduct = (a: Float32Array, b: Float32Array, m: number, n: number, k: number, transposeA: boolean): Float32Array => {
  const c = new Float32Array(m * n)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let q = 0; q < k; q++) s = Math.fround(s + Math.fround((transposeA ? a[q * m + i] : a[i * k + q])! * b[q * n + j]!))
      c[i * n + j] = s
    }
  }
  return c
}

const SHAPES: ReadonlyArray<[number, number, number]> = [
  [4, 8, 3],
  [5, 9, 7],
  [13, 21, 11],
  [1, 1, 1],
  [3, 7, 2],
  [8, 16, 1],
  [128, 32, 128],
  [33, 40, 17],
  [0, 5, 5],
  [6, 0, 3],
  [9, 272, 300] // more than one default block of k (128) and of columns (128), ragged in both
]

describe("the assembled WebAssembly GEMM kernel", () => {
  it("is a valid module (the bytes validate and export gemm)", () => {
    for (const shared of [false, true]) {
      const bytes = gemmModuleBytes(shared)
      expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d])
      expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)).toBe(true)
    }
  })

  // The default blocking (k in blocks of 128) only cuts the larger shapes; tiny blocks cut every shape here, so the
  // partial sums carried through C between k blocks and the column blocks are checked on each of them.
  const blockings: ReadonlyArray<GemmBlocking> = [DEFAULT_BLOCKING, { kc: 3, nc: 8 }, { kc: 1, nc: 16 }]
  for (const shared of [false, true]) {
    for (const transposeA of [false, true]) {
      for (const blocking of blockings)
        it(`equals the in-order float32 sum bitwise (${shared ? "shared" : "plain"} memory, transposeA=${transposeA}, blocks k ${blocking.kc} x columns ${blocking.nc})`, () => {
          const mem = memory(shared)
          const gemm = instantiateGemm(mem, blocking)
          const heap = new Float32Array(mem.buffer)
          for (const [m, n, k] of SHAPES) {
            const a = seededArray(m * k, 1, `gemm/a/${m}/${n}/${k}`)
            const b = seededArray(k * n, 2, `gemm/b/${m}/${n}/${k}`)
            // odd offsets (in floats) so that nothing depends on 16-byte alignment
            const aOff = 3,
              bOff = aOff + a.length + 5,
              cOff = bOff + b.length + 7
            heap.set(a, aOff)
            heap.set(b, bOff)
            heap.fill(Number.NaN, cOff, cOff + m * n + 8) // every output must be written
            gemm(4 * aOff, 4 * bOff, 4 * cOff, m, n, k, transposeA ? 4 : 4 * k, transposeA ? 4 * m : 4, 4 * n, 4 * n)
            const got = heap.slice(cOff, cOff + m * n)
            const want = referenceProduct(a, b, m, n, k, transposeA)
            expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `${m}x${k} * ${k}x${n}`).toBe(true)
            expect(Number.isNaN(heap[cOff + m * n]!)).toBe(true) // and nothing past the end
          }
        })
    }
  }

  it("relaxed SIMD compiles on this Node and the label says whether products use fused multiply-add", () => {
    expect(relaxedSimd().available).toBe(true) // Node 20: behind a V8 flag the assembler sets; later Nodes: shipped
    expect(batchMatMulLabel()).toBe(gemmUsesFusedMadd() ? "BatchMatMul(simd gemm, fma)" : "BatchMatMul(simd gemm)")
  })

  for (const transposeA of [false, true]) {
    it(`with fused multiply-add: within 1e-5 of a float64 reference (relative to sum |a||b|), deterministic (transposeA=${transposeA})`, () => {
      const mem = memory(false)
      const gemm = instantiateGemm(mem, { kc: 5, nc: 16, fma: true })
      const heap = new Float32Array(mem.buffer)
      for (const [m, n, k] of SHAPES) {
        const a = seededArray(m * k, 1, `fma/a/${m}/${n}/${k}`)
        const b = seededArray(k * n, 2, `fma/b/${m}/${n}/${k}`)
        const aOff = 3,
          bOff = aOff + a.length + 5,
          cOff = bOff + b.length + 7
        heap.set(a, aOff)
        heap.set(b, bOff)
        const args = [4 * aOff, 4 * bOff, 4 * cOff, m, n, k, transposeA ? 4 : 4 * k, transposeA ? 4 * m : 4, 4 * n, 4 * n] as const
        gemm(...args)
        const first = heap.slice(cOff, cOff + m * n)
        heap.fill(Number.NaN, cOff, cOff + m * n)
        gemm(...args)
        expect(Buffer.from(heap.slice(cOff, cOff + m * n).buffer).equals(Buffer.from(first.buffer))).toBe(true)
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let exact = 0
            let scale = 0
            for (let q = 0; q < k; q++) {
              const av = (transposeA ? a[q * m + i] : a[i * k + q])!
              exact += av * b[q * n + j]!
              scale += Math.abs(av * b[q * n + j]!)
            }
            expect(Math.abs(first[i * n + j]! - exact)).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-30))
          }
        }
      }
    })
  }

  for (const fma of [false, true])
    it(`a two-thread team gives bitwise the products one thread gives (fma ${fma})`, () => {
      const mem = memory(true)
      const blocking = { ...DEFAULT_BLOCKING, fma }
      const gemm = instantiateGemm(mem, blocking)
      const team = GemmTeam.create(mem, gemm, 2, blocking)
      try {
        const heap = new Float32Array(mem.buffer)
        const [m, n, k, slices] = [24, 40, 19, 7]
        const a = seededArray(slices * m * k, 3, "team/a")
        const b = seededArray(slices * k * n, 4, "team/b")
        const aOff = 0,
          bOff = a.length,
          oneOff = bOff + b.length,
          twoOff = oneOff + slices * m * n
        heap.set(a, aOff)
        heap.set(b, bOff)
        const args = (out: number) => {
          const t = new Int32Array(GEMM_ARGS * slices)
          for (let s = 0; s < slices; s++) {
            t.set([4 * (aOff + s * m * k), 4 * (bOff + s * k * n), 4 * (out + s * m * n), m, n, k, 4 * k, 4, 4 * n, 4 * n], GEMM_ARGS * s)
          }
          return t
        }
        const one = args(oneOff)
        for (let s = 0; s < slices; s++) {
          const o = GEMM_ARGS * s
          gemm(one[o]!, one[o + 1]!, one[o + 2]!, m, n, k, 4 * k, 4, 4 * n, 4 * n)
        }
        for (let round = 0; round < 3; round++) team.run(args(twoOff), slices)
        const single = heap.slice(oneOff, oneOff + slices * m * n)
        const teamed = heap.slice(twoOff, twoOff + slices * m * n)
        expect(single.some((x) => x !== 0)).toBe(true)
        expect(Buffer.from(teamed.buffer).equals(Buffer.from(single.buffer))).toBe(true)
      } finally {
        team.dispose()
      }
    })
})

describe("GemmTeam: products shared through an atomic queue", () => {
  it("three threads, more products than one round of the queue holds (4,096), bitwise the single-thread result", () => {
    const mem = memory(true)
    const gemm = instantiateGemm(mem)
    const team = GemmTeam.create(mem, gemm, 3)
    try {
      expect(team.size).toBe(3)
      const heap = new Float32Array(mem.buffer)
      const [m, n, k, count] = [4, 8, 3, 5000]
      const a = seededArray(m * k, 9, "queue/a")
      const b = seededArray(k * n, 10, "queue/b")
      heap.set(a, 0)
      heap.set(b, 64)
      const out = 1024 // floats: each product writes its own [m, n] block, with A scaled per product via offsets
      const args = new Int32Array(GEMM_ARGS * count)
      for (let p = 0; p < count; p++) {
        // A is read from a different offset per product (cycling over 4), so products differ
        args.set([4 * (p % 4), 4 * 64, 4 * (out + p * m * n), m, n, k, 4 * k, 4, 4 * n, 4 * n], GEMM_ARGS * p)
      }
      team.run(args, count)
      const teamed = heap.slice(out, out + count * m * n)
      heap.fill(0, out, out + count * m * n)
      for (let p = 0; p < count; p++) {
        const o = GEMM_ARGS * p
        gemm(args[o]!, args[o + 1]!, args[o + 2]!, m, n, k, 4 * k, 4, 4 * n, 4 * n)
      }
      const single = heap.slice(out, out + count * m * n)
      expect(single.some((x) => x !== 0)).toBe(true)
      expect(Buffer.from(teamed.buffer).equals(Buffer.from(single.buffer))).toBe(true)
    } finally {
      team.dispose()
    }
  })

  it("refuses a team of fewer than 2 threads", () => {
    const mem = memory(true)
    expect(() => GemmTeam.create(mem, instantiateGemm(mem), 1)).toThrow(/at least 2 threads/)
  })
})

/** A batched product on the wasm backend with the given kernel policy, read back. */
const product = (aData: Float32Array, aShape: number[], bData: Float32Array, bShape: number[], ta: boolean, tb: boolean): Float32Array =>
  tf.tidy(() => Float32Array.from(tf.matMul(tf.tensor(aData, aShape), tf.tensor(bData, bShape), ta, tb).dataSync() as Float32Array))

const BATCHED: ReadonlyArray<{ name: string; aBatch: number[]; bBatch: number[]; m: number; k: number; n: number }> = [
  { name: "attention-like [2,4] slices of 16x8 x 8x16", aBatch: [2, 4], bBatch: [2, 4], m: 16, k: 8, n: 16 },
  { name: "ragged [3] slices of 5x7 x 7x6", aBatch: [3], bBatch: [3], m: 5, k: 7, n: 6 },
  { name: "broadcast [2,1] x [1,3]", aBatch: [2, 1], bBatch: [1, 3], m: 9, k: 4, n: 11 },
  { name: "broadcast a [1] x [3]", aBatch: [1], bBatch: [3], m: 6, k: 5, n: 10 }
]

const sameBits = (x: Float32Array, y: Float32Array): boolean => x.length === y.length && Buffer.from(x.buffer).equals(Buffer.from(y.buffer))

describe.each([1, 2])("batched BatchMatMul on wasm (%i thread(s)): SIMD GEMM without fma == XNNPACK, bitwise", (threads) => {
  beforeAll(async () => {
    const info = await initEngine({ backend: "wasm", threads, tuned: true, native: false }) // the WebAssembly GEMM, not the native products
    if (threads === 2 && info.threads !== 2) console.info("threaded build unavailable: the 2-thread case ran on 1 thread")
    setGemmFma(false) // XNNPACK multiplies then adds: compare like with like
  })
  afterAll(async () => {
    setGemmFma(true)
    setSimdGemmPolicy("always")
    if (threads === 2) await initEngine({ backend: "wasm", threads: 1 }) // leave the process on the single-thread build
  })

  for (const c of BATCHED) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`${c.name}, transposeA=${ta}, transposeB=${tb}`, () => {
          const aShape = ta ? [...c.aBatch, c.k, c.m] : [...c.aBatch, c.m, c.k]
          const bShape = tb ? [...c.bBatch, c.n, c.k] : [...c.bBatch, c.k, c.n]
          const a = seededArray(sizeOf(aShape), 5, `batched/a/${c.name}/${ta}/${tb}`)
          const b = seededArray(sizeOf(bShape), 6, `batched/b/${c.name}/${ta}/${tb}`)
          setSimdGemmPolicy("never")
          const xnnpack = product(a, aShape, b, bShape, ta, tb)
          setSimdGemmPolicy("always")
          const simd = product(a, aShape, b, bShape, ta, tb)
          setSimdGemmPolicy("always")
          expect(simd.length).toBe(xnnpack.length)
          expect(sameBits(simd, xnnpack)).toBe(true)
        })
      }
    }
  }

  it("leaves no tensors or wasm data ids behind", () => {
    const backend = tf.backend() as unknown as { numDataIds(): number }
    setSimdGemmPolicy("always")
    const a = tf.tensor(seededArray(2 * 3 * 5 * 7, 7, "leak/a"), [2, 3, 7, 5])
    const b = tf.tensor(seededArray(3 * 6 * 7, 8, "leak/b"), [1, 3, 6, 7])
    const tensors = tf.memory().numTensors
    const ids = backend.numDataIds()
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, true).dispose()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(backend.numDataIds()).toBe(ids)
    tf.dispose([a, b])
    setSimdGemmPolicy("always")
  })
})
