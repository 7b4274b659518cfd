/**
 * Sums over the heap views:
 *  - Sum over leading axes (tuned set): the stock Sum transposes its input whenever the reduced axes are not the
 *    innermost ones, which is every bias and LayerNorm-gain gradient (a sum over the batch rows). Summing rows in
 *    place needs no transpose and adds in the same order (row 0, 1, ...), so the result is bitwise the stock one.
 *    Other axes and dtypes go to the stock kernel. Figures: docs/engine-measurements.md.
 *  - UnsortedSegmentSum (added in every set: wasm has no kernel for it, and it is the gradient of tf.gather, an
 *    embedding lookup). A plain sequential loop: exact TF semantics (ids outside [0, numSegments) are dropped),
 *    deterministic.
 */
import type * as tf from "@tensorflow/tfjs"
import { sizeOf, type WasmBackendInternals } from "./heap.js"
import { delegate } from "./stock-kernels.js"

export const SUM_OVERRIDE = "Sum(js, leading axes)"
export const SEGMENT_SUM_KERNEL = "UnsortedSegmentSum(js)"

export const sumLeadingAxes: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
  const rank = x.shape.length
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q)
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i)
  if (!leading || x.dtype !== "float32" || sizeOf(x.shape) === 0) return delegate("Sum", args)
  const rows = sizeOf(x.shape.slice(0, axes.length))
  const kept = x.shape.slice(axes.length)
  const cols = sizeOf(kept)
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, "float32")
  const xs = backend.typedArrayFromHeap(x) // after makeOutput: allocating can detach older views
  const os = backend.typedArrayFromHeap(out) as Float32Array
  sumRows(xs as Float32Array, os, rows, cols)
  return out
}

/**
 * os[j] = xs[j] + xs[cols + j] + xs[2 cols + j] + ... in row order, each addition rounded to float32. Four rows per
 * pass with the partial sum in a local (Math.fround after each addition: exactly the float32 addition the plain
 * `os[j] += x` loop does, so the result is bitwise the same), about 2x faster than the plain loop.
 */
const sumRows = (xs: Float32Array, os: Float32Array, rows: number, cols: number): void => {
  os.set(xs.subarray(0, cols))
  let r = 1
  for (; r + 4 <= rows; r += 4) {
    const b0 = r * cols
    const b1 = b0 + cols
    const b2 = b1 + cols
    const b3 = b2 + cols
    for (let j = 0; j < cols; j++) {
      let acc = os[j]
      acc = Math.fround(acc + xs[b0 + j])
      acc = Math.fround(acc + xs[b1 + j])
      acc = Math.fround(acc + xs[b2 + j])
      os[j] = acc + xs[b3 + j]
    }
  }
  for (; r < rows; r++) {
    const base = r * cols
    for (let j = 0; j < cols; j++) os[j] += xs[base + j]
  }
}

export const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo }
  const { numSegments } = attrs as unknown as { numSegments: number }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 (got ${x.dtype}): cast x first.`)
  }
  const segRank = segmentIds.shape.length
  const outShape = [numSegments, ...x.shape.slice(segRank)]
  const inner = sizeOf(x.shape.slice(segRank))
  const out = backend.makeOutput(outShape, x.dtype)
  // Views after makeOutput: allocating can grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x)
  const ids = backend.typedArrayFromHeap(segmentIds)
  const os = backend.typedArrayFromHeap(out)
  os.fill(0)
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]
    if (s < 0 || s >= numSegments) continue
    const src = i * inner
    const dst = s * inner
    for (let j = 0; j < inner; j++) os[dst + j] += xs[src + j]
  }
  return out
}
