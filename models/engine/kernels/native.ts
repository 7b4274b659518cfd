/**
 * The native set (override-table.ts): elementwise, reduction, softmax, transpose, segment-sum and AdamW kernels in
 * C (native/kernels.c, in the same N-API addon as the oneDNN products, native-gemm.ts), computing straight on the
 * wasm heap. Installed on the tuned engine when the products run natively (the same switch: `native`,
 * HARNESS_NATIVE=off); without the addon every kernel here stays on the wasm / JS kernels.
 *
 * Why: with the products on oneDNN, the rest of a training step dominated (docs/engine-measurements.md): XNNPACK
 * creates, sets up and deletes an operator for every elementwise call, the stock reductions and transposes are
 * scalar loops over generic strides, and the JS sums and copies run at JS speed. The C loops are vectorised for
 * the build machine (-march=native) and take the tensors' heap offsets, so nothing is copied in or out.
 *
 * Numerics (native/kernels.c's header says it per kernel): every kernel here computes bitwise what the kernel it
 * replaces computes (the same float32 operations in the same order; Exp is musl's expf transcribed), except
 * Softmax, which takes max, exp(x - max), the sum in element order and one division per element as the cpu
 * backend writes it, where the stock kernel is XNNPACK's (its own exp approximation and summation). Tests:
 * test/models/engine/native-kernels.test.ts, against the stock wasm kernels (bitwise) and the cpu backend.
 *
 * Each kernel takes the cases it covers (float32; for reductions, axes that are contiguous; for Softmax, the last
 * axis) and hands every other case to the kernel it replaced: the stock one (stock-kernels.ts) or, for Sum,
 * Transpose, UnsortedSegmentSum and FusedAdamW, this engine's JS / wasm kernel.
 */
import * as tf from "@tensorflow/tfjs"
import { heapBytes, heapOffset, sizeOf, type WasmBackendInternals } from "./heap.js"
import { delegate } from "./stock-kernels.js"

/** The addon's kernels (native/kernels.c); each takes the heap view and a descriptor of byte offsets and sizes. */
export interface NativeKernelsAddon {
  binary(heap: Uint8Array, desc: Uint32Array): void
  unary(heap: Uint8Array, desc: Uint32Array, alpha: number): void
  reduce(heap: Uint8Array, desc: Uint32Array): void
  softmax(heap: Uint8Array, desc: Uint32Array): void
  transpose(heap: Uint8Array, desc: Uint32Array): void
  segmentSum(heap: Uint8Array, desc: Uint32Array): void
  adamw(
    heap: Uint8Array,
    desc: Uint32Array,
    scale: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    decay: number,
    sqrtCorrection2: number,
    eps: number,
    stepSize: number
  ): void
  /** the fused kernels (fused.ts); absent from an addon built before them */
  norm?(heap: Uint8Array, desc: Uint32Array, eps: number): void
  normGrad?(heap: Uint8Array, desc: Uint32Array, eps: number): void
  maskedSoftmax?(heap: Uint8Array, desc: Uint32Array): void
  softmaxGrad?(heap: Uint8Array, desc: Uint32Array): void
  crossEntropy?(heap: Uint8Array, desc: Uint32Array): void
  crossEntropyGrad?(heap: Uint8Array, desc: Uint32Array): void
  swiglu?(heap: Uint8Array, desc: Uint32Array): void
  swigluGrad?(heap: Uint8Array, desc: Uint32Array): void
  biasRelu?(heap: Uint8Array, desc: Uint32Array): void
  biasReluGrad?(heap: Uint8Array, desc: Uint32Array): void
}

export interface NativeKernelsInfo {
  /** the vector instruction set the C was compiled for on this machine (-march=native): "avx512", "avx2", ... */
  readonly isa: string
  /** the compiler that built it, e.g. "gcc 12.2.0" */
  readonly compiler: string
}

let native: { readonly addon: NativeKernelsAddon; readonly info: NativeKernelsInfo } | null = null

/** The kernels of a loaded addon, or null when the addon predates them (built before native/kernels.c). */
export const nativeKernelsOf = (addon: unknown): { readonly addon: NativeKernelsAddon; readonly info: NativeKernelsInfo } | null => {
  const a = addon as Partial<NativeKernelsAddon> & { info?: () => { kernelsIsa?: string; kernelsCompiler?: string } }
  if (typeof a.binary !== "function" || typeof a.info !== "function") return null
  const raw = a.info()
  if (raw.kernelsIsa === undefined) return null
  return { addon: a as NativeKernelsAddon, info: { isa: raw.kernelsIsa, compiler: raw.kernelsCompiler ?? "unknown compiler" } }
}

/** backend.ts: the kernels to run (with the products on the native library), or null: every case stays on wasm. */
export const setNativeKernels = (kernels: { readonly addon: NativeKernelsAddon; readonly info: NativeKernelsInfo } | null): void => {
  native = kernels
}
export const nativeKernelsInUse = (): NativeKernelsInfo | null => native?.info ?? null
/** The loaded addon's kernels (fused.ts calls its fused ones), or null. */
export const nativeKernelsAddon = (): NativeKernelsAddon | null => native?.addon ?? null

const label = (kernels: string): string =>
  native === null ? `${kernels}(native C: not loaded)` : `${kernels}(native C, ${native.info.compiler}, ${native.info.isa})`
export const nativeBinaryLabel = (): string => label("Add/Sub/Multiply/RealDiv")
export const nativeUnaryLabel = (): string => label("Neg/Relu/Square/Sqrt/Rsqrt/Exp/Step")
export const nativeReductionLabel = (): string => label("Sum/Mean/Max")
export const nativeSoftmaxLabel = (): string => label("Softmax")
export const nativeTransposeLabel = (): string => label("Transpose")
export const nativeSegmentSumLabel = (): string => label("UnsortedSegmentSum")
export const nativeAdamWLabel = (): string => label("FusedAdamW")

/** One descriptor buffer for every call (the addon reads it before returning; JS is single-threaded). */
const desc = new Uint32Array(5 + 2 * 8)

type Args = Parameters<tf.KernelFunc>[0]
const backendOf = (args: Args): WasmBackendInternals => args.backend as unknown as WasmBackendInternals

// ---- binary: Add, Sub, Multiply, RealDiv ---------------------------------------------------------------------

const BINARY_OPS: Readonly<Record<string, number>> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 }
const MAX_RANK = 8

const binaryKernel = (name: string): tf.KernelFunc => {
  const op = BINARY_OPS[name]!
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
    if (native === null || a.dtype !== "float32" || b.dtype !== "float32") return delegate(name, args)
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape)
    const rank = outShape.length
    if (rank > MAX_RANK) return delegate(name, args)
    const backend = backendOf(args)
    const out = backend.makeOutput(outShape, "float32")
    if (sizeOf(outShape) === 0) return out
    const r = Math.max(rank, 1)
    desc[0] = op
    desc[1] = r
    desc[2] = heapOffset(backend, out)
    desc[3] = heapOffset(backend, a)
    desc[4] = heapOffset(backend, b)
    const ra = a.shape.length
    const rb = b.shape.length
    for (let i = 0; i < r; i++) {
      desc[5 + i] = i - (r - ra) >= 0 ? a.shape[i - (r - ra)]! : 1
      desc[5 + r + i] = i - (r - rb) >= 0 ? b.shape[i - (r - rb)]! : 1
    }
    native.addon.binary(heapBytes(backend), desc)
    return out
  }
}
export const nativeAdd = binaryKernel("Add")
export const nativeSub = binaryKernel("Sub")
export const nativeMultiply = binaryKernel("Multiply")
export const nativeRealDiv = binaryKernel("RealDiv")

// ---- unary ---------------------------------------------------------------------------------------------------

const UNARY_OPS: Readonly<Record<string, number>> = { Neg: 0, Relu: 1, Square: 2, Sqrt: 3, Rsqrt: 4, Exp: 5, Step: 6 }

const unaryKernel = (name: string): tf.KernelFunc => {
  const op = UNARY_OPS[name]!
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo }
    if (native === null || x.dtype !== "float32") return delegate(name, args)
    const backend = backendOf(args)
    const out = backend.makeOutput([...x.shape], "float32")
    const count = sizeOf(x.shape)
    if (count === 0) return out
    desc[0] = op
    desc[1] = heapOffset(backend, out)
    desc[2] = heapOffset(backend, x)
    desc[3] = count
    const alpha = name === "Step" ? Number((args.attrs as { alpha?: number }).alpha ?? 0) : 0
    native.addon.unary(heapBytes(backend), desc, alpha)
    return out
  }
}
export const nativeNeg = unaryKernel("Neg")
export const nativeRelu = unaryKernel("Relu")
export const nativeSquare = unaryKernel("Square")
export const nativeSqrt = unaryKernel("Sqrt")
export const nativeRsqrt = unaryKernel("Rsqrt")
export const nativeExp = unaryKernel("Exp")
export const nativeStep = unaryKernel("Step")

// ---- reductions: Sum, Mean, Max over contiguous axes ------------------------------------------------------------

const R_SUM = 0
const R_SUM_FIRST = 1
const R_MEAN = 2
const R_MAX = 3

/**
 * The reduction as [outer, size, inner] when the reduced axes are one contiguous block of a float32 tensor with
 * something to reduce; null otherwise. `leading`: the block starts at axis 0 and leaves axes after it.
 */
const reductionShape = (x: tf.TensorInfo, axis: number | number[] | null | undefined, keepDims: boolean) => {
  if (x.dtype !== "float32" || x.shape.length === 0 || sizeOf(x.shape) === 0) return null
  const rank = x.shape.length
  const axes = [...new Set(tf.util.parseAxisParam((axis ?? null) as number | number[], x.shape))].sort((p, q) => p - q)
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0]! + i)) return null
  const first = axes[0]!
  const end = first + axes.length
  const outShape = keepDims ? x.shape.map((d, i) => (i >= first && i < end ? 1 : d)) : x.shape.filter((_, i) => i < first || i >= end)
  return {
    outer: sizeOf(x.shape.slice(0, first)),
    size: sizeOf(x.shape.slice(first, end)),
    inner: sizeOf(x.shape.slice(end)),
    outShape,
    leading: first === 0 && end < rank
  }
}

const runReduce = (args: Args, op: number, shape: NonNullable<ReturnType<typeof reductionShape>>, x: tf.TensorInfo): tf.TensorInfo => {
  const backend = backendOf(args)
  const out = backend.makeOutput(shape.outShape, "float32")
  desc[0] = op
  desc[1] = heapOffset(backend, out)
  desc[2] = heapOffset(backend, x)
  desc[3] = shape.outer
  desc[4] = shape.size
  desc[5] = shape.inner
  native!.addon.reduce(heapBytes(backend), desc)
  return out
}

/**
 * Sum: over leading axes the JS kernel it replaces starts each column from its first row (reductions.ts), the
 * stock kernel from 0 (they differ only in the sign of an all-negative-zero column); each case keeps its own.
 */
export const nativeSumOr =
  (fallback: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo }
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
    const shape = native === null ? null : reductionShape(x, axis, keepDims)
    if (shape === null) return fallback(args)
    return runReduce(args, shape.leading ? R_SUM_FIRST : R_SUM, shape, x)
  }

export const nativeMean: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
  const shape = native === null ? null : reductionShape(x, axis, keepDims)
  if (shape === null) return delegate("Mean", args)
  return runReduce(args, R_MEAN, shape, x)
}

export const nativeMax: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { reductionIndices, keepDims } = args.attrs as unknown as { reductionIndices: number | number[]; keepDims: boolean }
  const shape = native === null ? null : reductionShape(x, reductionIndices, keepDims)
  if (shape === null) return delegate("Max", args)
  return runReduce(args, R_MAX, shape, x)
}

// ---- softmax over the last axis ----------------------------------------------------------------------------------

export const nativeSoftmax: tf.KernelFunc = (args) => {
  const { logits } = args.inputs as { logits: tf.TensorInfo }
  const { dim } = args.attrs as unknown as { dim: number }
  const rank = logits.shape.length
  if (native === null || logits.dtype !== "float32" || rank === 0 || (dim !== -1 && dim !== rank - 1) || sizeOf(logits.shape) === 0) {
    return delegate("Softmax", args)
  }
  const backend = backendOf(args)
  const out = backend.makeOutput([...logits.shape], "float32")
  const cols = logits.shape[rank - 1]!
  desc[0] = heapOffset(backend, out)
  desc[1] = heapOffset(backend, logits)
  desc[2] = sizeOf(logits.shape) / cols
  desc[3] = cols
  native.addon.softmax(heapBytes(backend), desc)
  return out
}

// ---- copies and sums that replace this engine's JS / wasm kernels ------------------------------------------------

/** Transpose of 4-byte elements (float32, int32), any permutation that moves data; the rest to `fallback`. */
export const nativeTransposeOr =
  (fallback: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo }
    const { perm } = args.attrs as unknown as { perm: number[] }
    const rank = x.shape.length
    if (
      native === null ||
      (x.dtype !== "float32" && x.dtype !== "int32") ||
      perm.length !== rank ||
      rank > MAX_RANK ||
      sizeOf(x.shape) === 0
    )
      return fallback(args)
    const moved = perm.filter((axis) => x.shape[axis] !== 1)
    if (moved.every((axis, i) => i === 0 || moved[i - 1]! < axis)) return fallback(args) // no data moves (the JS kernel shares or copies)
    const backend = backendOf(args)
    const out = backend.makeOutput(
      perm.map((axis) => x.shape[axis]!),
      x.dtype
    )
    desc[0] = heapOffset(backend, out)
    desc[1] = heapOffset(backend, x)
    desc[2] = rank
    for (let i = 0; i < rank; i++) {
      desc[3 + i] = x.shape[i]!
      desc[3 + rank + i] = perm[i]!
    }
    native.addon.transpose(heapBytes(backend), desc)
    return out
  }

/** UnsortedSegmentSum of float32 rows by int32 ids; the rest to `fallback`. */
export const nativeSegmentSumOr =
  (fallback: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo }
    const { numSegments } = args.attrs as unknown as { numSegments: number }
    if (native === null || x.dtype !== "float32" || segmentIds.dtype !== "int32") return fallback(args)
    const backend = backendOf(args)
    const segRank = segmentIds.shape.length
    const out = backend.makeOutput([numSegments, ...x.shape.slice(segRank)], "float32")
    desc[0] = heapOffset(backend, out)
    desc[1] = heapOffset(backend, x)
    desc[2] = heapOffset(backend, segmentIds)
    desc[3] = sizeOf(segmentIds.shape)
    desc[4] = sizeOf(x.shape.slice(segRank))
    desc[5] = numSegments
    native.addon.segmentSum(heapBytes(backend), desc)
    return out
  }

/** FusedAdamW: the same update as wasm-adamw.ts, operation for operation; malformed inputs to `fallback` (it throws). */
export const nativeAdamWOr =
  (fallback: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { p, m, v, g } = args.inputs as { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo }
    const size = sizeOf(p.shape)
    if (native === null || [p, m, v, g].some((t) => t.dtype !== "float32" || sizeOf(t.shape) !== size)) return fallback(args)
    const c = args.attrs as unknown as {
      scale: number
      beta1: number
      oneMinusBeta1: number
      beta2: number
      oneMinusBeta2: number
      decay: number
      sqrtCorrection2: number
      eps: number
      stepSize: number
    }
    const backend = backendOf(args)
    const outs = [
      backend.makeOutput([...p.shape], "float32"),
      backend.makeOutput([...p.shape], "float32"),
      backend.makeOutput([...p.shape], "float32")
    ]
    desc[0] = heapOffset(backend, p)
    desc[1] = heapOffset(backend, m)
    desc[2] = heapOffset(backend, v)
    desc[3] = heapOffset(backend, g)
    desc[4] = heapOffset(backend, outs[0]!)
    desc[5] = heapOffset(backend, outs[1]!)
    desc[6] = heapOffset(backend, outs[2]!)
    desc[7] = size
    native.addon.adamw(
      heapBytes(backend),
      desc,
      c.scale,
      c.beta1,
      c.oneMinusBeta1,
      c.beta2,
      c.oneMinusBeta2,
      c.decay,
      c.sqrtCorrection2,
      c.eps,
      c.stepSize
    )
    return outs
  }
