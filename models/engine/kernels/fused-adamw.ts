/**
 * FusedAdamW (wasm simd), added in the tuned set: a kernel tfjs does not have. One AdamW update of one parameter in
 * one pass (wasm-adamw.ts): inputs p, m, v, g; attrs the float32 constants; outputs p', m', v'. models/train/adamw.ts
 * uses it when the live backend has it, and it computes bitwise what that file's op path computes.
 */
import * as tf from "@tensorflow/tfjs"
import { instantiateAdamW, type AdamWConstants, type AdamWKernel } from "../wasm-adamw.js"
import { backendMemory } from "../wasm-assembler.js"
import { heapOffset, sizeOf, type WasmBackendInternals } from "./heap.js"

export const FUSED_ADAMW_KERNEL_NAME = "FusedAdamW"
export const FUSED_ADAMW_KERNEL = "FusedAdamW(wasm simd)"

let adamwKernel: { readonly backend: object; readonly kernel: AdamWKernel } | undefined
export const fusedAdamW: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { p, m, v, g } = inputs as { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo }
  const size = sizeOf(p.shape)
  for (const [name, t] of [
    ["p", p],
    ["m", m],
    ["v", v],
    ["g", g]
  ] as const) {
    if (t.dtype !== "float32" || sizeOf(t.shape) !== size) {
      throw new Error(`FusedAdamW: ${name} must be float32 with ${size} values like the parameter (got ${t.dtype} [${t.shape.join(", ")}])`)
    }
  }
  if (adamwKernel?.backend !== backend) adamwKernel = { backend, kernel: instantiateAdamW(backendMemory(backend.wasm)) }
  const outs = [backend.makeOutput(p.shape, "float32"), backend.makeOutput(p.shape, "float32"), backend.makeOutput(p.shape, "float32")]
  const [outP, outM, outV] = outs.map((t) => heapOffset(backend, t))
  adamwKernel.kernel(
    heapOffset(backend, p),
    heapOffset(backend, m),
    heapOffset(backend, v),
    heapOffset(backend, g),
    outP!,
    outM!,
    outV!,
    size,
    attrs as unknown as AdamWConstants
  )
  return outs
}

/** Whether `backendName` has the fused kernel registered (models/train/adamw.ts then uses it). */
export const hasFusedAdamW = (backendName: string): boolean => tf.getKernel(FUSED_ADAMW_KERNEL_NAME, backendName) !== undefined
