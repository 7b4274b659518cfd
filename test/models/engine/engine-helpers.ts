/** Shared helpers for the engine tests: seeded host arrays, running one function on a named backend. */
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { nativeFusedLabel } from "../../../models/engine/kernels/fused.js"
import { batchMatMulLabel } from "../../../models/engine/kernels/products.js"
import {
  nativeAdamWLabel,
  nativeBinaryLabel,
  nativeKernelsInUse,
  nativeReductionLabel,
  nativeSegmentSumLabel,
  nativeSoftmaxLabel,
  nativeTransposeLabel,
  nativeUnaryLabel
} from "../../../models/engine/kernels/native.js"
import { loadNativeGemm } from "../../../models/engine/native-gemm.js"

export const seededArray = (n: number, seed: number, purpose: string, scale = 1): Float32Array => {
  const rng = SeededRandom.create(seed, purpose)
  return rng.fill(n, (r) => scale * r.uniformIn(-1, 1))
}

export const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((p, d) => p * d, 1)

/** Switches to `backend` (which must have been initialised by initEngine before), runs `f`, reads its result. */
export const onBackend = async (backend: "cpu" | "wasm", f: () => tf.Tensor): Promise<Float32Array> => {
  await tf.setBackend(backend)
  const t = tf.tidy(f)
  const values = (await t.data()) as Float32Array
  t.dispose()
  return Float32Array.from(values)
}

/** max_i |x_i - y_i| / scale_i (scale defaults to max |y|, floored at 1e-30). */
export const maxRelativeError = (x: ArrayLike<number>, y: ArrayLike<number>, scale?: ArrayLike<number>): number => {
  if (x.length !== y.length) throw new Error(`length mismatch ${x.length} vs ${y.length}`)
  let yMax = 0
  for (let i = 0; i < y.length; i++) yMax = Math.max(yMax, Math.abs(y[i]))
  let worst = 0
  for (let i = 0; i < x.length; i++) {
    const s = Math.max(scale === undefined ? yMax : scale[i], 1e-30)
    const e = Math.abs(x[i] - y[i]) / s
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e
  }
  return worst
}

/**
 * The matrix-product paths of the tuned wasm engine the parity tests run on: the WebAssembly SIMD GEMM always,
 * the native library (models/engine/native-gemm.ts) where its addon is built.
 */
export const GEMM_PATHS: ReadonlyArray<{ readonly name: string; readonly native: boolean }> = [
  { name: "simd gemm", native: false },
  ...(loadNativeGemm().ok ? [{ name: "native gemm", native: true }] : [])
]

/**
 * The engine record's kernel list of the tuned wasm engine as just initialised: the JS / wasm kernels, or, with the
 * native kernels loaded (native: true where the addon is built), the C kernels in their place and after them.
 */
export const tunedKernelLabels = (): string[] =>
  nativeKernelsInUse() === null
    ? [
        batchMatMulLabel(),
        "Sum(js, leading axes)",
        "GatherV2(js, axis 0)",
        "Identity(shared data)",
        "Transpose(js, matrix swaps)",
        "Cast(shared data when the dtype is unchanged)",
        "Slice/SplitV/Concat(js, row copies)",
        "UnsortedSegmentSum(js)",
        "OneHot(js, honours dtype)",
        "FusedAdamW(wasm simd)"
      ]
    : [
        batchMatMulLabel(),
        nativeReductionLabel(),
        "GatherV2(js, axis 0)",
        "Identity(shared data)",
        nativeTransposeLabel(),
        "Cast(shared data when the dtype is unchanged)",
        "Slice/SplitV/Concat(js, row copies)",
        nativeSegmentSumLabel(),
        "OneHot(js, honours dtype)",
        nativeAdamWLabel(),
        nativeBinaryLabel(),
        nativeUnaryLabel(),
        nativeSoftmaxLabel(),
        nativeFusedLabel()
      ]
