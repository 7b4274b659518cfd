/**
 * What the kernel overrides use of the tfjs wasm backend, and helpers over its heap.
 *
 * PINNED: these are internals of @tensorflow/tfjs-backend-wasm 4.22.0 (the exported C function `BatchMatMul`,
 * `tfjs.registerTensor` / `tfjs.disposeData`, `dataIdMap`, `makeOutput`, `typedArrayFromHeap`), which
 * package.json pins exactly. test/models/engine/wasm-kernels.test.ts checks every override against the cpu
 * backend; rerun it after any tfjs upgrade.
 *
 * Allocating (makeOutput) can grow the heap and detach older views: every kernel takes its views after its last
 * allocation.
 */
import type * as tf from "@tensorflow/tfjs"
import { backendMemory } from "../wasm-assembler.js"

/** What these kernels use of the wasm backend (tfjs-backend-wasm 4.22.0 BackendWasm). */
export interface WasmBackendInternals {
  readonly wasm: {
    cwrap(name: string, ret: null, args: ReadonlyArray<string>): (...args: any[]) => void
    readonly tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void
      disposeData(id: number): void
    }
  }
  readonly dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined }
  dataIdNextNumber: number
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array
  disposeData(dataId: object, force?: boolean): boolean
}

/** A typed view of one tensor's data on the heap. */
export type HeapView = Float32Array | Int32Array | Uint8Array

export const shapeBytes = (shape: ReadonlyArray<number>): Uint8Array => new Uint8Array(new Int32Array(shape).buffer)
export const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((p, d) => p * d, 1)

/** Byte offset of a tensor's data in the heap. */
export const heapOffset = (backend: WasmBackendInternals, t: tf.TensorInfo): number => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) throw new Error("wasm kernel: an operand is not on the wasm backend (mixed backends?)")
  return data.memoryOffset
}

/** A Uint8Array over the wasm heap, one per heap buffer (memory growth replaces the buffer: a new view then). */
const heapViews = new WeakMap<ArrayBufferLike, Uint8Array>()
export const heapBytes = (backend: WasmBackendInternals): Uint8Array => {
  const buffer = backendMemory(backend.wasm).buffer
  let view = heapViews.get(buffer)
  if (view === undefined) heapViews.set(buffer, (view = new Uint8Array(buffer)))
  return view
}
