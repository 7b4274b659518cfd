/**
 * Overrides that only move data, in the tuned set (override-table.ts): Identity and Cast share the buffer,
 * Transpose swaps matrices, Slice / SplitV / Concat copy rows, GatherV2 copies whole rows. Each covers the common
 * case and hands the rest (other dtypes, permutations, slices that cut more than one axis, strings) to the stock
 * kernel (stock-kernels.ts).
 *
 * Why: the stock kernels copy where no copy is needed (Identity, same-dtype Cast), copy element by element with
 * generic stride arithmetic (Transpose, GatherV2), or copy the whole input out of the heap before taking the rows
 * they want (Slice, SplitV). Figures: docs/engine-measurements.md.
 *
 * Numerics: copies, so every result is bitwise what the stock kernel returns.
 */
import * as tf from "@tensorflow/tfjs"
import { sizeOf, type HeapView, type WasmBackendInternals } from "./heap.js"
import { delegate } from "./stock-kernels.js"

export const IDENTITY_OVERRIDE = "Identity(shared data)"
export const CAST_OVERRIDE = "Cast(shared data when the dtype is unchanged)"
export const TRANSPOSE_OVERRIDE = "Transpose(js, matrix swaps)"
export const SLICE_OVERRIDE = "Slice/SplitV/Concat(js, row copies)"
export const GATHER_OVERRIDE = "GatherV2(js, axis 0)"

/**
 * out[b, j, i] = x[b, i, j] for `batch` matrices of rows x cols (any typed array, same type both sides). Eight
 * source rows per pass: each output row gets 8 consecutive writes, the 8 reads are 8 streams with stride `cols`.
 * A few times faster than the stock wasm Transpose (a scalar loop over generic strides). A copy: the result is
 * exact whatever the order.
 */
export const transposeMatrices = (xs: HeapView, os: HeapView, batch: number, rows: number, cols: number): void => {
  const size = rows * cols
  for (let b = 0; b < batch; b++) {
    const o = b * size
    let r = 0
    for (; r + 8 <= rows; r += 8) {
      const s0 = o + r * cols
      for (let c = 0; c < cols; c++) {
        const d = o + c * rows + r
        const s = s0 + c
        os[d] = xs[s]
        os[d + 1] = xs[s + cols]
        os[d + 2] = xs[s + 2 * cols]
        os[d + 3] = xs[s + 3 * cols]
        os[d + 4] = xs[s + 4 * cols]
        os[d + 5] = xs[s + 5 * cols]
        os[d + 6] = xs[s + 6 * cols]
        os[d + 7] = xs[s + 7 * cols]
      }
    }
    for (; r < rows; r++) {
      const s0 = o + r * cols
      for (let c = 0; c < cols; c++) os[o + c * rows + r] = xs[s0 + c]
    }
  }
}

/** Swaps the last two axes (a JS copy over the heap views, see transposeMatrices); the caller disposes the result. */
export const transposeLastTwo = (backend: WasmBackendInternals, x: tf.TensorInfo): tf.TensorInfo => {
  const rank = x.shape.length
  const rows = x.shape[rank - 2]
  const cols = x.shape[rank - 1]
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype)
  const xs = backend.typedArrayFromHeap(x) // after makeOutput: allocating can detach older views
  const os = backend.typedArrayFromHeap(out)
  transposeMatrices(xs, os, sizeOf(x.shape.slice(0, -2)), rows, cols)
  return out
}

/**
 * Identity sharing the data: the engine clones every tensor a gradient needs through the Identity kernel
 * (Engine.clone, about 170 calls per reference-model step) and the stock wasm Identity copies the buffer; tensors
 * are immutable, so the override shares it with a reference count, as Reshape does and as the cpu backend's
 * Identity does.
 */
export const identityShared: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  if (x.dtype === "string") return delegate("Identity", args)
  ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
}

/** Cast to the dtype a tensor already has (every float32 gradient that casts its saved input) shares the buffer, as
 * Identity does; real conversions go to the stock kernel. */
export const castShared: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType }
  if (dtype !== x.dtype || x.dtype === "string") return delegate("Cast", args)
  ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
}

/**
 * Transpose (js) for batched matrix transposes: after dropping size-1 axes and merging axes that stay adjacent,
 * the last two axes swap behind leading axes that stay in order ([1024, 128] -> [128, 1024], [B, H, T, T] ->
 * [B, H, T, T]^T), by transposeMatrices (the routine BatchMatMul uses). A copy, so exact. Other permutations and
 * dtypes go to the stock kernel, e.g. [B, T, H, hd] -> [B, H, T, hd] (rows of hd move), which the stock kernel
 * does faster than a JS row copy (docs/engine-measurements.md).
 */
export const transposeMatrixSwaps: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { perm } = args.attrs as unknown as { perm: number[] }
  const rank = x.shape.length
  if ((x.dtype !== "float32" && x.dtype !== "int32") || perm.length !== rank || sizeOf(x.shape) === 0) return delegate("Transpose", args)
  // Reduced problem: input axes of size > 1, consecutive input axes that stay consecutive in the output merged.
  const kept = perm.filter((axis) => x.shape[axis] !== 1)
  const groups: number[][] = []
  for (const axis of kept) {
    const last = groups[groups.length - 1]
    if (last !== undefined && last[last.length - 1] + 1 === axis) last.push(axis)
    else groups.push([axis])
  }
  const order = groups.map((g) => g[0]).sort((p, q) => p - q) // input order of the groups
  const inShape = order.map((first) => sizeOf(groups.find((g) => g[0] === first)!.map((axis) => x.shape[axis])))
  const rperm = groups.map((g) => order.indexOf(g[0])) // output position -> input group
  const r = rperm.length
  const outShape = perm.map((axis) => x.shape[axis])
  const out = backend.makeOutput(outShape, x.dtype)
  const xs = backend.typedArrayFromHeap(x) // after makeOutput: allocating can detach older views
  const os = backend.typedArrayFromHeap(out)
  if (r <= 1 || rperm.every((p, i) => p === i)) {
    os.set(xs)
    return out
  }
  if (rperm[r - 1] === r - 2 && rperm[r - 2] === r - 1 && rperm.slice(0, -2).every((p, i) => p === i)) {
    transposeMatrices(xs, os, sizeOf(inShape.slice(0, -2)), inShape[r - 2], inShape[r - 1])
    return out
  }
  backend.disposeData(out.dataId)
  return delegate("Transpose", args)
}

/**
 * rows x len elements: os[oOff + r oStride + j] = xs[xOff + r xStride + j]. Short rows by a plain loop (faster
 * than the stock kernels' subarray().set() per row, which allocates a view object per row), long rows by set.
 * Two copies of one loop on purpose: V8 optimises an element access for the array types it has seen, and the
 * float32 one (every training step) stays monomorphic while int32 and bool (token ids, masks) use the other.
 */
const copyRowsF32 = (
  xs: Float32Array,
  xOff: number,
  xStride: number,
  os: Float32Array,
  oOff: number,
  oStride: number,
  rows: number,
  len: number
): void => {
  if (len >= 256) {
    for (let r = 0; r < rows; r++) os.set(xs.subarray(xOff + r * xStride, xOff + r * xStride + len), oOff + r * oStride)
    return
  }
  for (let r = 0; r < rows; r++) {
    const s = xOff + r * xStride
    const d = oOff + r * oStride
    for (let j = 0; j < len; j++) os[d + j] = xs[s + j]
  }
}
// The same loop as copyRowsF32's short rows, kept apart so each stays monomorphic (one element type) in a hot kernel.
const copyRowsOther = (
  xs: HeapView,
  xOff: number,
  xStride: number,
  os: HeapView,
  oOff: number,
  oStride: number,
  rows: number,
  len: number
): void => {
  for (let r = 0; r < rows; r++) {
    const s = xOff + r * xStride
    const d = oOff + r * oStride
    for (let j = 0; j < len; j++) os[d + j] = xs[s + j]
  }
}
const copyRows = (
  xs: HeapView,
  xOff: number,
  xStride: number,
  os: HeapView,
  oOff: number,
  oStride: number,
  rows: number,
  len: number
): void =>
  xs instanceof Float32Array && os instanceof Float32Array
    ? copyRowsF32(xs, xOff, xStride, os, oOff, oStride, rows, len)
    : copyRowsOther(xs, xOff, xStride, os, oOff, oStride, rows, len)

/** An output for `size` entries of x along `axis` (every other axis whole); fillSlices writes it. */
const sliceOutput = (backend: WasmBackendInternals, x: tf.TensorInfo, axis: number, size: number): tf.TensorInfo => {
  const shape = [...x.shape]
  shape[axis] = size
  return backend.makeOutput(shape, x.dtype)
}
/** Copies x[.., begin : begin + out.shape[axis], ..] into each part's output (allocated before: no view goes stale). */
const fillSlices = (
  backend: WasmBackendInternals,
  x: tf.TensorInfo,
  axis: number,
  parts: ReadonlyArray<{ out: tf.TensorInfo; begin: number }>
): void => {
  const outer = sizeOf(x.shape.slice(0, axis))
  const inner = sizeOf(x.shape.slice(axis + 1))
  const xs = backend.typedArrayFromHeap(x) // after every makeOutput: allocating can detach older views
  for (const { out, begin } of parts) {
    const len = out.shape[axis] * inner
    if (len === 0 || outer === 0) continue
    copyRows(xs, begin * inner, x.shape[axis] * inner, backend.typedArrayFromHeap(out), 0, len, outer, len)
  }
}
const COPYABLE = new Set<tf.DataType>(["float32", "int32", "bool"])

/** Slice (js, one axis): a slice that cuts one axis (the others whole) copies rows straight from the heap; the stock
 * kernel first copies the whole input out of the heap (readSync) and then copies rows through subarray views. */
export const sliceRows: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] }
  if (!COPYABLE.has(x.dtype) || x.shape.length === 0) return delegate("Slice", args)
  const [b, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size)
  const cut = x.shape.map((d, i) => (b[i] !== 0 || sz[i] !== d ? i : -1)).filter((i) => i >= 0)
  if (cut.length > 1) return delegate("Slice", args)
  const axis = cut.length === 0 ? 0 : cut[0]
  const out = sliceOutput(backend, x, axis, sz[axis])
  fillSlices(backend, x, axis, [{ out, begin: b[axis] }])
  return out
}

/** SplitV (js): the stock kernel runs the stock Slice once per part (a full readSync copy each time). */
export const splitVRows: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number }
  if (!COPYABLE.has(x.dtype)) return delegate("SplitV", args)
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0]
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis)
  let at = 0
  const parts = sizes.map((s) => {
    const part = { out: sliceOutput(backend, x, $axis, s), begin: at }
    at += s
    return part
  })
  fillSlices(backend, x, $axis, parts)
  return parts.map((p) => p.out)
}

/** Concat (js): the same row copies as the stock kernel, by loop instead of a subarray view per row. */
export const concatRows: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const inputs = args.inputs as unknown as tf.TensorInfo[]
  const list = Array.isArray(inputs) ? inputs : Object.values(inputs as Record<string, tf.TensorInfo>)
  if (list.length < 2 || !COPYABLE.has(list[0].dtype) || list.some((t) => t.dtype !== list[0].dtype)) return delegate("Concat", args)
  const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, list[0].shape)[0]
  tf.backend_util.assertParamsConsistent(
    list.map((t) => t.shape),
    axis
  )
  const outShape = tf.backend_util.computeOutShape(
    list.map((t) => t.shape),
    axis
  )
  const parts = list.filter((t) => sizeOf(t.shape) > 0)
  if (parts.length < 2) return delegate("Concat", args)
  const out = backend.makeOutput(outShape, list[0].dtype)
  const outer = sizeOf(outShape.slice(0, axis))
  const rowLen = sizeOf(outShape.slice(axis))
  const os = backend.typedArrayFromHeap(out) // after makeOutput
  let offset = 0
  for (const t of parts) {
    const len = sizeOf(t.shape.slice(axis))
    copyRows(backend.typedArrayFromHeap(t), 0, len, os, offset, rowLen, outer, len)
    offset += len
  }
  return out
}

/** GatherV2 (js, axis 0): whole rows by TypedArray.set (a memcpy); the stock kernel copies element by element. */
export const gatherRows: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo }
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number }
  const parsedAxis = axis < 0 ? axis + x.shape.length : axis
  if (parsedAxis !== 0 || batchDims !== 0 || indices.dtype !== "int32" || (x.dtype !== "float32" && x.dtype !== "int32")) {
    return delegate("GatherV2", args)
  }
  const rowSize = sizeOf(x.shape.slice(1))
  const rowsIn = x.shape[0]
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
  const xs = backend.typedArrayFromHeap(x)
  const ids = backend.typedArrayFromHeap(indices)
  const os = backend.typedArrayFromHeap(out)
  for (let i = 0; i < ids.length; i++) {
    const row = ids[i]
    if (!(row >= 0 && row < rowsIn)) {
      backend.disposeData(out.dataId)
      throw new Error(`GatherV2: the index value ${row} is not in [0, ${rowsIn - 1}]`) // as the stock kernel
    }
    os.set(xs.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize)
  }
  return out
}
