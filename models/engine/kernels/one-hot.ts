/**
 * OneHot (js), replacing the stock wasm kernel in every set: the stock OneHot (C++) writes int32 values whatever
 * the requested dtype, so tf.oneHot(i, depth, 1, 0, "float32") on wasm returns the int 1 read as a float
 * (1.4e-45), a silent wrong result (found by test/models/engine/reference-model.test.ts). This kernel honours
 * the dtype.
 */
import type * as tf from "@tensorflow/tfjs"
import type { WasmBackendInternals } from "./heap.js"

export const ONE_HOT_KERNEL = "OneHot(js, honours dtype)"

export const oneHotHonouringDtype: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { indices } = inputs as { indices: tf.TensorInfo }
  const { dtype, depth, onValue, offValue } = attrs as unknown as { dtype: tf.DataType; depth: number; onValue: number; offValue: number }
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "bool") {
    throw new Error(`OneHot on wasm supports float32, int32 and bool (got ${dtype}).`)
  }
  const out = backend.makeOutput([...indices.shape, depth], dtype)
  const ids = backend.typedArrayFromHeap(indices) // after makeOutput: allocating can detach older views
  const values = backend.typedArrayFromHeap(out)
  values.fill(offValue)
  for (let i = 0; i < ids.length; i++) {
    const j = ids[i]
    if (j >= 0 && j < depth) values[i * depth + j] = onValue // out-of-range index: a row of offValue (TF semantics)
  }
  return out
}
