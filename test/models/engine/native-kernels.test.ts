/**
 * The native set (models/engine/kernels/native.ts, native/kernels.c): every case each C kernel accepts, against the
 * kernels it replaces (the tuned engine with native: false, which computes them with the stock wasm kernels and
 * this engine's JS / wasm ones) and against the cpu backend; the engine record; the addon's bounds checks;
 * reproducibility with 1 and 2 threads. One training step on this path runs in training-parity.test.ts (its native
 * GEMM path installs these kernels too).
 *
 * Tolerances, stated:
 *  - bitwise against the kernels replaced: Add, Sub, Multiply, RealDiv, Neg, Relu, Square, Sqrt, Rsqrt, Exp, Step,
 *    Sum, Mean, Max, Transpose, UnsortedSegmentSum, FusedAdamW (NaN compared as NaN, zeros by sign);
 *  - Softmax (another summation order and exp than XNNPACK's): max|a - b| / max|b| per tensor within 2e-6, against
 *    the stock kernel and against the cpu backend;
 *  - against the cpu backend (float64 sums in some of its kernels): elementwise ops within 1e-6 relative, sums
 *    and means within 1e-5 (1e-4 for a 300,000-term sum).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FUSED_ADAMW_KERNEL_NAME, initEngine, isOverrideInstalled } from "../../../models/engine/index.js"
import { nativeKernelsInUse, nativeKernelsOf } from "../../../models/engine/kernels/native.js"
import { loadNativeGemm } from "../../../models/engine/native-gemm.js"
import { maxRelativeError, seededArray, sizeOf } from "./engine-helpers.js"

const load = loadNativeGemm()
const kernels = load.ok ? nativeKernelsOf(load.addon) : null

/** A run of `f` on tuned wasm with the native kernels (true) or without (false), or on the cpu backend. */
type Path = "native" | "wasm" | "cpu"
const runOn = async (path: Path, f: () => tf.Tensor | tf.Tensor[], threads = 1): Promise<Float32Array[]> => {
  if (path === "cpu") await initEngine({ backend: "cpu" })
  else await initEngine({ backend: "wasm", threads, tuned: true, native: path === "native" })
  const out = tf.tidy(f)
  const list = Array.isArray(out) ? out : [out]
  const values = list.map((t) => Float32Array.from(t.dataSync() as Float32Array))
  tf.dispose(list)
  return values
}

/** Bitwise equality, NaN equal to any NaN (payloads differ between wasm and C), +0 and -0 told apart. */
const sameBits = (x: Float32Array, y: Float32Array): string | null => {
  if (x.length !== y.length) return `length ${x.length} vs ${y.length}`
  const xb = new Uint32Array(x.buffer, x.byteOffset, x.length)
  const yb = new Uint32Array(y.buffer, y.byteOffset, y.length)
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue
    if (xb[i] !== yb[i]) return `element ${i}: ${x[i]} (0x${xb[i]!.toString(16)}) vs ${y[i]} (0x${yb[i]!.toString(16)})`
  }
  return null
}

/** Values that exercise the edges: signed zeros, infinities, NaN, subnormals, the largest and smallest floats. */
const SPECIALS = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  1e-45,
  -1e-45,
  1e-40,
  -3e-39,
  3.4028234e38,
  -3.4028234e38,
  1.1754944e-38,
  1,
  -1,
  0.5,
  2,
  88,
  88.7,
  88.8,
  -87.3,
  -103.9,
  -104,
  -150
]
const withSpecials = (n: number, seed: number, purpose: string, scale = 1): Float32Array => {
  const a = seededArray(n, seed, purpose, scale)
  SPECIALS.forEach((v, i) => {
    if (i * 37 < n) a[i * 37] = v
  })
  return a
}

const tensor = (shape: number[], seed: number, scale = 1, specials = false): tf.Tensor =>
  tf.tensor(
    specials
      ? withSpecials(sizeOf(shape), seed, `native/${shape.join("x")}`, scale)
      : seededArray(sizeOf(shape), seed, `native/${shape.join("x")}`, scale),
    shape
  )

const expectBitwiseAsReplaced = async (f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> => {
  const native = await runOn("native", f)
  const replaced = await runOn("wasm", f)
  expect(native.length).toBe(replaced.length)
  native.forEach((v, i) => expect(sameBits(v, replaced[i]!), `output ${i}`).toBeNull())
  return native
}

describe("native kernels: loading and the engine record", () => {
  afterAll(async () => {
    await initEngine({ backend: "wasm", threads: 1 })
  })

  it(`the addon carries them where it is built (${load.ok ? (kernels !== null ? `${kernels.info.compiler}, ${kernels.info.isa}` : "built before them") : load.reason})`, () => {
    if (process.env.HARNESS_REQUIRE_NATIVE === "1") expect(kernels).not.toBeNull()
    if (load.ok && kernels !== null) {
      expect(kernels.info.isa).toMatch(/^(avx512|avx2|avx|sse2)$/)
      expect(load.info.kernels).toEqual(kernels.info)
    }
  })

  it("tuned wasm names each native kernel with compiler and ISA; native: false and stock name none", async () => {
    const info = await initEngine({ backend: "wasm", threads: 1, tuned: true })
    const names = [
      "Sum/Mean/Max",
      "Transpose",
      "UnsortedSegmentSum",
      "FusedAdamW",
      "Add/Sub/Multiply/RealDiv",
      "Neg/Relu/Square/Sqrt/Rsqrt/Exp/Step",
      "Softmax"
    ]
    if (kernels !== null) {
      expect(nativeKernelsInUse()).toEqual(kernels.info)
      for (const name of names) expect(info.kernelOverrides).toContain(`${name}(native C, ${kernels.info.compiler}, ${kernels.info.isa})`)
      expect(info.kernelOverrides).not.toContain("Sum(js, leading axes)")
    }
    const wasm = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(nativeKernelsInUse()).toBeNull()
    expect(wasm.kernelOverrides.filter((k) => k.includes("native C"))).toEqual([])
    expect(wasm.kernelOverrides).toContain("Sum(js, leading axes)")
    const stock = await initEngine({ backend: "wasm", threads: 1, tuned: false })
    expect(stock.kernelOverrides).toEqual(["UnsortedSegmentSum(js)", "OneHot(js, honours dtype)"])
    expect(isOverrideInstalled("Add")).toBe(false)
  })
})

describe.runIf(kernels !== null)("native kernels against the kernels they replace (bitwise) and the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "cpu" }) // registers the cpu backend for runOn("cpu")
  })
  afterAll(async () => {
    await initEngine({ backend: "wasm", threads: 1 })
  })

  // Every broadcast the binary kernel's loops distinguish: same shape, a row vector, a column, scalars either side,
  // both sides broadcast, rank 4 and 5, and the reference model's shapes.
  const BINARY_CASES: ReadonlyArray<[number[], number[]]> = [
    [
      [1024, 128],
      [1024, 128]
    ],
    [[1024, 128], [128]],
    [
      [1024, 1],
      [1024, 128]
    ],
    [
      [1024, 128],
      [1024, 1]
    ],
    [
      [8, 4, 128, 1],
      [8, 4, 128, 128]
    ],
    [
      [8, 4, 128, 128],
      [128, 128]
    ],
    [[], [1024, 1]],
    [[1024, 1], []],
    [[], []],
    [
      [2, 1, 3],
      [1, 4, 1]
    ],
    [
      [3, 1],
      [1, 5]
    ],
    [[5], [1]],
    [
      [2, 3, 1, 4, 5],
      [3, 2, 1, 5]
    ],
    [
      [7, 9],
      [7, 9]
    ]
  ]
  for (const op of ["add", "sub", "mul", "div"] as const) {
    it(`${op}: every broadcast case, with signed zeros, infinities, NaN and subnormals`, async () => {
      const f = () =>
        BINARY_CASES.map(([as, bs], i) => tf[op](tensor(as, 10 + i, 3, true), tensor(bs, 40 + i, op === "div" ? 0.5 : 2, true)))
      const native = await expectBitwiseAsReplaced(f)
      const cpu = await runOn("cpu", f)
      // cpu: the same IEEE float32 operation per element (NaN and infinities compared as values)
      native.forEach((v, i) => expect(sameBits(v, cpu[i]!), `${BINARY_CASES[i]!.join(" x ")}`).toBeNull())
    })
  }

  it("Neg, Relu, Square, Sqrt, Rsqrt, Step (alpha 0 and 0.25), Exp: bitwise, specials included", async () => {
    const f = () => {
      const x = tensor([1031], 3, 4, true)
      const big = tensor([300000], 4, 60) // past the size where the kernels split over threads
      return [
        tf.neg(x),
        tf.relu(x),
        tf.square(x),
        tf.sqrt(x),
        tf.rsqrt(x),
        tf.step(x),
        tf.step(x, 0.25),
        tf.exp(x),
        tf.exp(big),
        tf.relu(big)
      ]
    }
    const native = await expectBitwiseAsReplaced(f)
    const cpu = await runOn("cpu", f)
    native.forEach((v, i) => {
      const finite = (a: Float32Array) => a.map((y) => (Number.isFinite(y) ? y : 0))
      expect(
        maxRelativeError(
          finite(v),
          finite(cpu[i]!),
          finite(cpu[i]!).map((y) => Math.max(Math.abs(y), 1e-30))
        ),
        `output ${i}`
      ).toBeLessThanOrEqual(1e-6)
    })
  })

  it("Exp: musl's expf bit for bit over 2^20 float32 bit patterns (every sign, exponent and special)", async () => {
    const n = 1 << 20
    const bits = new Uint32Array(n)
    let s = 0x9e3779b9
    for (let i = 0; i < n; i++) {
      s ^= s << 13
      s ^= s >>> 17
      s ^= s << 5
      bits[i] = s >>> 0
    }
    const values = new Float32Array(bits.buffer)
    // and a dense grid over the range where exp is finite and not zero
    for (let i = 0; i < 200000; i++) values[i] = -104 + (193 * i) / 200000
    await expectBitwiseAsReplaced(() => tf.exp(tf.tensor1d(values)))
  })

  const REDUCE_CASES: ReadonlyArray<[number[], number | number[], boolean]> = [
    [[1024, 128], 0, false],
    [[1024, 512], 0, false],
    [[1024, 128], 1, true],
    [[1024, 128], -1, false],
    [[1024, 128], [0, 1], false],
    [[8, 4, 128, 128], 3, true],
    [[8, 4, 128, 128], [1, 2], false],
    [[4, 5, 6], 1, true],
    [[4, 5, 6], [0, 1], false],
    [[4, 5, 6], [0, 2], false],
    [[13, 3], 1, false],
    [[300000], 0, false],
    [[2, 600, 256], 1, false],
    [[600, 2, 256], [0, 1], true]
  ]
  for (const op of ["sum", "mean", "max"] as const) {
    it(`${op}: contiguous axes (leading, trailing, middle, all), keepDims, a non-contiguous set (handed on)`, async () => {
      const f = () => REDUCE_CASES.map(([shape, axis, keep], i) => tf[op](tensor(shape, 60 + i, 2), axis, keep))
      const native = await expectBitwiseAsReplaced(f)
      const cpu = await runOn("cpu", f)
      // the float32 sums run in element order as the stock kernels do; the cpu backend sums in float64: 1e-5, and 1e-4
      // for the 300,000-term sum
      native.forEach((v, i) => {
        const terms = sizeOf(REDUCE_CASES[i]![0]) / v.length
        expect(maxRelativeError(v, cpu[i]!), `${REDUCE_CASES[i]!.join(" ")}`).toBeLessThanOrEqual(
          op === "max" ? 0 : terms > 100_000 ? 1e-4 : 1e-5
        )
      })
    })
  }

  it("Sum over leading axes keeps the JS kernel's sign of an all-negative-zero column; other axes the stock kernel's", async () => {
    const f = () => {
      const x = tf.tensor2d([-0, 1, -0, -0, -0, 2], [3, 2])
      return [tf.sum(x, 0), tf.sum(tf.transpose(x), 1), tf.sum(tf.reshape(x, [1, 3, 2]), 1)]
    }
    const [lead, inner, middle] = await expectBitwiseAsReplaced(f)
    expect(Object.is(lead![0], -0)).toBe(true)
    expect(Object.is(inner![0], 0)).toBe(true)
    expect(Object.is(middle![0], 0)).toBe(true)
  })

  it("Softmax: within 2e-6 of the stock kernel and of the cpu backend, masked rows included; bitwise on rerun", async () => {
    const f = () => {
      const scores = tf.add(tensor([8, 4, 128, 128], 90, 6), tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([128, 128]), -1, 0)), -1e9))
      return [
        tf.softmax(scores),
        tf.softmax(tensor([1024, 64], 91, 20)),
        tf.softmax(tensor([3, 5], 92, 1e3)),
        tf.softmax(tf.tensor2d([[-Infinity, 0, 1]]))
      ]
    }
    const native = await runOn("native", f)
    expect((await runOn("native", f)).every((v, i) => sameBits(v, native[i]!) === null)).toBe(true)
    const stock = await runOn("wasm", f)
    const cpu = await runOn("cpu", f)
    native.forEach((v, i) => {
      expect(maxRelativeError(v, stock[i]!), `stock ${i}`).toBeLessThanOrEqual(2e-6)
      expect(maxRelativeError(v, cpu[i]!), `cpu ${i}`).toBeLessThanOrEqual(2e-6)
    })
  })

  it("Transpose: head splits and merges, matrix swaps, int32, rank 5, size-1 axes, identity permutations", async () => {
    const f = () => [
      tf.transpose(tensor([8, 128, 4, 32], 100), [0, 2, 1, 3]),
      tf.transpose(tensor([8, 4, 128, 32], 101), [0, 2, 1, 3]),
      tf.transpose(tensor([1024, 128], 102), [1, 0]),
      tf.transpose(tensor([2, 3, 4, 5, 6], 103), [4, 2, 0, 3, 1]),
      tf.transpose(tensor([3, 1, 4], 104), [1, 2, 0]),
      tf.transpose(tensor([3, 4], 105), [0, 1]),
      tf.cast(
        tf.transpose(
          tf.tensor3d(
            Int32Array.from({ length: 60 }, (_, i) => i * 7 - 100),
            [3, 4, 5],
            "int32"
          ),
          [2, 0, 1]
        ),
        "float32"
      ),
      tf.transpose(tensor([600, 600], 106), [1, 0])
    ]
    const native = await expectBitwiseAsReplaced(f)
    const cpu = await runOn("cpu", f)
    native.forEach((v, i) => expect(sameBits(v, cpu[i]!), `case ${i}`).toBeNull())
  })

  it("UnsortedSegmentSum: in index order, ids out of range dropped", async () => {
    const ids = Int32Array.from({ length: 1024 }, (_, i) => ((i * 37) % 70) - 3) // -3..66: some below 0 and past 63
    const f = () => tf.unsortedSegmentSum(tensor([1024, 128], 110), tf.tensor1d(ids, "int32"), 64)
    const [native] = await expectBitwiseAsReplaced(f)
    const [cpu] = await runOn("cpu", f)
    expect(maxRelativeError(native!, cpu!)).toBeLessThanOrEqual(1e-5)
  })

  it("FusedAdamW: the wasm kernel's update bit for bit (4-lane and tail sizes, decay, a clipped step)", async () => {
    const attrs = {
      scale: 0.37,
      beta1: 0.9,
      oneMinusBeta1: 0.1,
      beta2: 0.95,
      oneMinusBeta2: 0.05,
      decay: 0.9997,
      sqrtCorrection2: 0.31,
      eps: 1e-8,
      stepSize: 3e-3
    }
    const f = () =>
      [7, 3072, 1025].flatMap((n, i) => {
        const [p, m, v, g] = [0, 1, 2, 3].map((k) => tensor([n], 120 + 4 * i + k, k === 2 ? 0.01 : 1))
        return tf.engine().runKernel(FUSED_ADAMW_KERNEL_NAME, { p: p!, m: m!, v: tf.abs(v!), g: g! }, attrs) as tf.Tensor[]
      })
    await expectBitwiseAsReplaced(f)
  })

  it("2 threads give the bits of 1 thread (the kernels split large calls over the pool)", async () => {
    const f = () => {
      const a = tensor([1024, 512], 130, 3)
      const b = tensor([512], 131)
      return [
        tf.mul(a, b),
        tf.add(a, a),
        tf.exp(a),
        tf.sum(a, 0),
        tf.sum(a, 1),
        tf.mean(a, 1, true),
        tf.max(a, 0),
        tf.softmax(a),
        tf.transpose(tf.reshape(a, [8, 128, 4, 128]), [0, 2, 1, 3]),
        tf.sqrt(tf.abs(a))
      ]
    }
    const one = await runOn("native", f, 1)
    const two = await runOn("native", f, 2)
    one.forEach((v, i) => expect(sameBits(v, two[i]!), `output ${i}`).toBeNull())
  })
})

describe.runIf(kernels !== null)("native kernels: the addon's checks", () => {
  it("refuses an operand past the heap, a misaligned offset, a short descriptor, a bad op", () => {
    const addon = kernels!.addon
    const heap = new Uint8Array(new SharedArrayBuffer(4096))
    const d = (xs: number[]) => Uint32Array.from(xs)
    expect(() => addon.binary(heap, d([0, 1, 0, 1024, 2048, 256, 256]))).not.toThrow()
    expect(() => addon.binary(heap, d([0, 1, 0, 1024, 2048, 600, 600]))).toThrow(/past the heap/)
    expect(() => addon.binary(heap, d([0, 1, 2, 1024, 2048, 4, 4]))).toThrow(/misaligned/)
    expect(() => addon.binary(heap, d([0, 2, 0, 1024, 2048, 3, 4, 3, 5]))).toThrow(/broadcast/)
    expect(() => addon.binary(heap, d([9, 1, 0, 0, 0, 1, 1]))).toThrow(/bad op/)
    expect(() => addon.unary(heap, d([0, 0, 4000, 100]), 0)).toThrow(/past the heap/)
    expect(() => addon.reduce(heap, d([0, 0, 0]))).toThrow(/bad descriptor/)
    expect(() => addon.reduce(heap, d([0, 0, 0, 1, 2000, 1]))).toThrow(/past the heap/)
    expect(() => addon.softmax(heap, d([0, 0, 64, 64]))).toThrow(/past the heap/)
    expect(() => addon.transpose(heap, d([0, 2048, 2, 16, 16, 1, 1]))).toThrow(/not a permutation/)
    expect(() => addon.segmentSum(heap, d([0, 0, 0, 1000, 4, 1]))).toThrow(/past the heap/)
    expect(() => addon.adamw(heap, d([0, 0, 0, 0, 0, 0, 0, 2000]), 1, 1, 1, 1, 1, 1, 1, 1, 1)).toThrow(/past the heap/)
    expect(() => addon.unary(heap, d([0]), 0)).toThrow(/bad descriptor/)
  })
})
