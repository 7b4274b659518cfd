/**
 * Kernel overrides and additions for the tfjs 'wasm' backend.
 *
 * PINNED: these rely on internals of @tensorflow/tfjs-backend-wasm 4.22.0 (the exported C function
 * `BatchMatMul`, `tfjs.registerTensor` / `tfjs.disposeData`, `dataIdMap`, `makeOutput`, `typedArrayFromHeap`),
 * which package.json pins exactly. test/models/engine/wasm-kernels.test.ts checks them against the cpu
 * backend; rerun it after any tfjs upgrade.
 *
 * 1. BatchMatMul (simd gemm). The stock kernel (src/cc/kernels/BatchMatMul.cc) uses XNNPACK's fully-connected
 *    operator only when transposeA = transposeB = false and the batch is 1; every other case (all the transposed
 *    products autodiff makes, every 4-D attention product) runs a scalar loop, which was 2.0 of 2.2 s per training
 *    step of the reference model (measured with tf.profile). This kernel runs every float32 product on the
 *    WebAssembly SIMD GEMM of wasm-gemm.ts, straight on the wasm heap (simdProduct below):
 *      - A is read through strides, so a transposed A costs no copy; a transposed B is copied once by a JS
 *        transpose (the GEMM's vector loads run along B's rows);
 *      - batch dims broadcast (a size-1 batch dim is read with stride 0); a B shared by every slice with a
 *        row-major A folds the batch into the rows (the [B, T, K] x [K, N] linear-layer case);
 *      - the products (slices, or blocks of rows) go to a team of threads through a shared queue when the engine
 *        runs more than one thread.
 *    Why not XNNPACK (the previous version of this kernel handed XNNPACK aliases into the heap): its operator is
 *    created, packs its weights and is deleted for every product (~24 us each, whatever the size: attention
 *    slices ran at 9-13 GFLOP/s), it cannot read a transposed operand, and its pool thread and the GEMM helper
 *    fought over the second core. Measured on the reference model (median step, same process, policy switch):
 *    1 thread 184 ms with XNNPACK products -> 159 ms with the GEMM (both without fused multiply-add), and with
 *    fma 130 ms; 2 threads ~95 ms. The XNNPACK path (batchMatMulXnnpack) stays for setSimdGemmPolicy("never"):
 *    without fma the GEMM sums in XNNPACK's order, and the tests hold the two to the same bits.
 *
 * 2. UnsortedSegmentSum (js). wasm has no kernel for it, and it is the gradient of tf.gather (an embedding
 *    lookup). A plain sequential loop over the heap views: exact TF semantics (ids outside [0, numSegments)
 *    are dropped) and deterministic.
 *
 * 3. OneHot (js). The stock wasm OneHot (C++) writes int32 values whatever the requested dtype, so
 *    tf.oneHot(i, depth, 1, 0, "float32") on wasm returns the int 1 read as a float (1.4e-45): a silent
 *    wrong result (found by test/models/engine/reference-model.test.ts). This kernel honours the dtype.
 *
 * 4. Sum (js, leading axes) and GatherV2 (js, axis 0), speed overrides installed with the tuned set. The stock
 *    Sum transposes the input whenever the reduced axes are not the innermost ones (3.8 ms for a [1024, 512]
 *    sum over axis 0, vs 0.6 ms over axis 1): that is every bias and LayerNorm-gain gradient. Summing rows in
 *    place over the heap view needs no transpose and adds in the same order (row 0, 1, ...). The stock GatherV2
 *    copies element by element with stride arithmetic (4.2 ms for 1024 rows of 128 floats); the override
 *    copies whole rows (TypedArray.set, a memcpy). Other cases go to the stock kernels.
 *
 *    Identity (shared data), also tuned: the engine clones every tensor a gradient needs through the Identity
 *    kernel (Engine.clone, ~170 calls per reference-model step) and the stock wasm Identity copies the buffer;
 *    tensors are immutable, so the override shares it with a reference count, as Reshape does and as the cpu
 *    backend's Identity does. Cast to the dtype a tensor already has (float32 gradients cast their saved inputs:
 *    ~50 calls a step) shares the buffer the same way instead of copying it.
 *
 * 5. Transpose (js, matrix swaps), tuned: batched swaps of the last two axes (after merging axes that stay
 *    adjacent) as a JS copy with eight source rows per pass, the same routine BatchMatMul uses; other
 *    permutations go to the stock kernel.
 *
 * 6. Slice, SplitV and Concat (js, row copies), tuned: the stock Slice copies the whole input out of the heap
 *    (readSync) before copying the rows it wants through one subarray view per row, SplitV runs that once per
 *    part, and Concat also makes a view per row: the rotary embeddings' half-splits and concats of q and k
 *    ([8, 4, 128, 32] along the last axis) took 0.75-1.1 ms per split and 0.6 ms per concat, now 0.28 and 0.27.
 *    Slices that cut more than one axis, and strings, go to the stock kernels.
 *
 * Numerics: the overrides in 4, 5 and 6 compute bitwise what the stock kernels compute (copies, float32 additions in
 * the same order); BatchMatMul differs from the stock scalar loop (XNNPACK sums in another order) but its operand
 * swap and the JS transposes do not change its own results. So the speed changes of 2026-11-26 (JS transposes,
 * operand swap, 4-row Sum, Cast sharing, row copies) left every result of the tuned engine bitwise as it was
 * (checked: the reference model's loss sequence hashes the same before and after, 1 and 2 threads, and the smoke
 * suite's metrics are identical).
 */
import * as tf from "@tensorflow/tfjs"
import { backendMemory, isSharedMemory, relaxedSimd } from "./wasm-assembler.js"
import { instantiateAdamW, type AdamWConstants, type AdamWKernel } from "./wasm-adamw.js"
import { DEFAULT_BLOCKING, GEMM_ARGS, GemmTeam, instantiateGemm, type GemmKernel } from "./wasm-gemm.js"
import { describeNativeGemm, NATIVE_GEMM_FIELDS, type NativeGemmAddon, type NativeGemmInfo } from "./native-gemm.js"

/** What these kernels use of the wasm backend (tfjs-backend-wasm 4.22.0 BackendWasm). */
interface WasmBackendInternals {
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

export const BATCH_MATMUL_OVERRIDE = "BatchMatMul(simd gemm)"
export const SEGMENT_SUM_KERNEL = "UnsortedSegmentSum(js)"
export const ONE_HOT_KERNEL = "OneHot(js, honours dtype)"

type CBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number
) => void

const cBatchMatMul = new WeakMap<object, CBatchMatMul>()
const cFunction = (backend: WasmBackendInternals): CBatchMatMul => {
  let f = cBatchMatMul.get(backend)
  if (f === undefined) {
    // Same signature as the stock kernel's setup (dist/kernels/BatchMatMul.js).
    f = backend.wasm.cwrap("BatchMatMul", null, [
      "number", "array", "number", "number", "array", "number", "number", "number", "number"
    ]) as CBatchMatMul
    cBatchMatMul.set(backend, f)
  }
  return f
}

const shapeBytes = (shape: ReadonlyArray<number>): Uint8Array => new Uint8Array(new Int32Array(shape).buffer)
const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((p, d) => p * d, 1)

const heapOffset = (backend: WasmBackendInternals, t: tf.TensorInfo): number => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) throw new Error("wasm kernel: an operand is not on the wasm backend (mixed backends?)")
  return data.memoryOffset
}

/**
 * out[b, j, i] = x[b, i, j] for `batch` matrices of rows x cols (any typed array, same type both sides). Eight
 * source rows per pass: each output row gets 8 consecutive writes, the 8 reads are 8 streams with stride `cols`.
 * 2-5x faster than the stock wasm Transpose (a scalar loop over generic strides, ~5 ns per element for a
 * [1024, 128] matrix; this ~1-2 ns). A copy: the result is exact whatever the order.
 */
const transposeMatrices = (
  xs: Float32Array | Int32Array | Uint8Array, os: Float32Array | Int32Array | Uint8Array,
  batch: number, rows: number, cols: number
): void => {
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
const transposeLastTwo = (backend: WasmBackendInternals, x: tf.TensorInfo): tf.TensorInfo => {
  const rank = x.shape.length
  const rows = x.shape[rank - 2]
  const cols = x.shape[rank - 1]
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype)
  const xs = backend.typedArrayFromHeap(x) // after makeOutput: allocating can detach older views
  const os = backend.typedArrayFromHeap(out)
  transposeMatrices(xs, os, sizeOf(x.shape.slice(0, -2)), rows, cols)
  return out
}

/** Strides (in matrices) of a batch shape right-aligned to `rank`, 0 on broadcast (size-1) dims. */
const broadcastStrides = (batch: ReadonlyArray<number>, outBatch: ReadonlyArray<number>): number[] => {
  const rank = outBatch.length
  const padded = [...Array(rank - batch.length).fill(1), ...batch]
  const strides = new Array<number>(rank).fill(0)
  let s = 1
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = padded[i] === 1 && outBatch[i] !== 1 ? 0 : s
    s *= padded[i]
  }
  return strides
}

const batchMatMulXnnpack: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean }
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new Error(`BatchMatMul on wasm supports float32 only (got ${a.dtype} x ${b.dtype}): cast the operands with tf.cast(x, "float32").`)
  }
  const ra = a.shape.length
  const rb = b.shape.length
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
  const Ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2]
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`
    )
  }
  const K = Ka
  const aBatch = a.shape.slice(0, -2)
  const bBatch = b.shape.slice(0, -2)
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch)
  const outShape = [...outBatch, M, N]
  const out = backend.makeOutput(outShape, "float32")
  const batches = sizeOf(outBatch)
  if (batches * M * N === 0) return out
  if (K === 0) {
    backend.typedArrayFromHeap(out).fill(0)
    return out
  }

  const aCount = sizeOf(aBatch)
  const bCount = sizeOf(bBatch)
  if (simdGemmPolicy === "always") {
    const dims = { M, N, K, transposeA, transposeB, aBatch, bBatch, outBatch }
    if (nativeGemm !== null) nativeProduct(backend, nativeGemm.addon, a, b, out, dims)
    else simdProduct(backend, a, b, out, dims)
    return out
  }
  // XNNPACK multiplies [rows, K] x [K, cols] only (and packs the right operand, its "weights", on every call).
  // Either
  //   direct:  out = A[M,K] B[K,N]          (transpose a if transposeA, b if transposeB), or
  //   swapped: out = (B^T[N,K] A^T[K,M])^T  (transpose a if not transposeA, b if not transposeB, and the output).
  // Measured (1 thread, CPU time): the product is cheaper with the larger of M, N as rows and the smaller as cols
  // (smaller packed weights): x^T dy with x [1024, 128], dy [1024, 512] takes 7.5 ms direct, 5.9 ms swapped;
  // with x [1024, 512], dy [1024, 128] 6.0 ms direct, 7.8 ms swapped. So: swap when N > M, or when N = M and
  // swapping copies fewer elements. Both give bitwise the same numbers: each output is the same products summed
  // over k in the same order (XNNPACK's GEMM accumulates k sequentially), only the operands' roles swap.
  const directCopies = (transposeA ? M * K : 0) + (transposeB ? K * N : 0)
  const swappedCopies = (transposeA ? 0 : M * K) + (transposeB ? 0 : K * N) + M * N
  const swapped = aCount === batches && bCount === batches && (N > M || (N === M && swappedCopies < directCopies))
  const temps: tf.TensorInfo[] = []
  const layout = (x: tf.TensorInfo, transpose: boolean): tf.TensorInfo => {
    if (!transpose) return x
    const t = transposeLastTwo(backend, x)
    temps.push(t)
    return t
  }
  // direct: lhs [.., M, K], rhs [.., K, N], result [.., M, N] = out; swapped: lhs [.., N, K] (b), rhs [.., K, M]
  // (a), result [.., N, M] = out transposed into a temporary.
  const lhs = swapped ? layout(b, !transposeB) : layout(a, transposeA)
  const rhs = swapped ? layout(a, !transposeA) : layout(b, transposeB)
  const result = swapped ? backend.makeOutput([...outBatch, N, M], "float32") : out
  if (swapped) temps.push(result)
  const rows = swapped ? N : M
  const cols = swapped ? M : N
  const run = cFunction(backend)
  const lhsBase = heapOffset(backend, lhs)
  const rhsBase = heapOffset(backend, rhs)
  const resultBase = heapOffset(backend, result)
  const aliases: number[] = []
  const alias = (offset: number, size: number): number => {
    const id = backend.dataIdNextNumber++
    backend.wasm.tfjs.registerTensor(id, size, offset)
    aliases.push(id)
    return id
  }
  try {
    const lhsShape = shapeBytes([1, 0, K]) // row count patched per call (index 1)
    const rhsShape = shapeBytes([1, K, cols])
    const product = (lOff: number, n: number, rOff: number, resOff: number): void => {
      const il = alias(lOff, n * K)
      const ir = alias(rOff, K * cols)
      const io = alias(resOff, n * cols)
      new Int32Array(lhsShape.buffer)[1] = n
      run(il, lhsShape, 3, ir, rhsShape, 3, false, false, io)
    }
    if (!swapped && bCount === 1 && aCount === batches) {
      // b shared by every slice: the batch folds into rows, [batches * M, K] x [K, N], one call.
      product(lhsBase, batches * M, rhsBase, resultBase)
    } else {
      const sl = broadcastStrides(swapped ? bBatch : aBatch, outBatch)
      const sr = broadcastStrides(swapped ? aBatch : bBatch, outBatch)
      const rank = outBatch.length
      const index = new Array<number>(rank).fill(0)
      for (let o = 0; o < batches; o++) {
        let il = 0
        let ir = 0
        for (let d = 0; d < rank; d++) {
          il += index[d] * sl[d]
          ir += index[d] * sr[d]
        }
        product(lhsBase + 4 * il * rows * K, rows, rhsBase + 4 * ir * K * cols, resultBase + 4 * o * rows * cols)
        for (let d = rank - 1; d >= 0; d--) {
          if (++index[d] < outBatch[d]) break
          index[d] = 0
        }
      }
    }
    if (swapped) {
      const rs = backend.typedArrayFromHeap(result)
      const os = backend.typedArrayFromHeap(out)
      transposeMatrices(rs, os, batches, N, M)
    }
  } finally {
    for (const id of aliases) backend.wasm.tfjs.disposeData(id)
    for (const t of temps) backend.disposeData(t.dataId)
  }
  return out
}

/**
 * Which kernel multiplies: "always" the WebAssembly SIMD GEMM (wasm-gemm.ts; the tuned engine), "never" XNNPACK
 * (kept as the reference the GEMM is tested against: without fma, the same bits; test/models/engine/wasm-gemm.test.ts).
 */
export type SimdGemmPolicy = "always" | "never"
let simdGemmPolicy: SimdGemmPolicy = "always"
export const setSimdGemmPolicy = (policy: SimdGemmPolicy): void => {
  simdGemmPolicy = policy
}

/** Threads the SIMD GEMM runs on (backend.ts sets it: the engine's wasm threads). */
let gemmThreads = 1
export const setGemmThreads = (threads: number): void => {
  gemmThreads = threads
}

/**
 * Fused multiply-add in the GEMM (f32x4.relaxed_madd, where this Node can compile it): one rounding per term
 * instead of two, and on a CPU with FMA (x86-64 since 2013) twice the products per cycle. Measured here, one thread:
 * [1024,128]x[128,128] 18.0 -> 37.6 GFLOP/s, 1024^3 19.6 -> 29.7. It changes the last bits of every product, so
 * results are bitwise reproducible per engine *and* multiply-add kind, which the engine record names
 * ("BatchMatMul(simd gemm, fma)"). Off: XNNPACK's own summation, bit for bit (tests compare the two that way).
 */
let gemmFma = true
export const setGemmFma = (on: boolean): void => {
  gemmFma = on
}
/** Whether the GEMM multiplies and adds in one rounding (fma asked, relaxed SIMD compiles, the CPU fuses). */
export const gemmUsesFusedMadd = (): boolean => gemmFma && relaxedSimd().available && relaxedSimd().fused
export const batchMatMulLabel = (): string =>
  nativeGemm !== null ? `BatchMatMul(${describeNativeGemm(nativeGemm.info)})` : `BatchMatMul(simd gemm${gemmUsesFusedMadd() ? ", fma" : ""})`

/**
 * Native products (native-gemm.ts: oneDNN's sgemm through an N-API addon), set by backend.ts when the addon loads
 * and the engine asks for it; null: the SIMD GEMM multiplies. oneDNN computes on its own thread pool (sized here)
 * and reads transposed operands in place, so this path needs neither JS transposes nor the GEMM's helper workers.
 */
let nativeGemm: { readonly addon: NativeGemmAddon; readonly info: NativeGemmInfo } | null = null
export const setNativeGemm = (native: { readonly addon: NativeGemmAddon; readonly info: NativeGemmInfo } | null, threads = 1): void => {
  nativeGemm = native
  native?.addon.setThreads(threads)
}
/** The native library the products run on, or null when they run on the SIMD GEMM. */
export const nativeGemmInUse = (): NativeGemmInfo | null => nativeGemm?.info ?? null

/** A Uint8Array over the wasm heap, one per heap buffer (memory growth replaces the buffer: a new view then). */
const heapViews = new WeakMap<ArrayBufferLike, Uint8Array>()
const heapBytes = (backend: WasmBackendInternals): Uint8Array => {
  const buffer = backendMemory(backend.wasm).buffer
  let view = heapViews.get(buffer)
  if (view === undefined) heapViews.set(buffer, (view = new Uint8Array(buffer)))
  return view
}

/**
 * A product through the native library, straight into `out`: one table row per batch slice (byte offsets of A, B
 * and C in the heap, leading dimensions, transposes), one call into the addon for the whole table. Batch dims
 * broadcast as in simdProduct; a B shared by every slice with a row-major A folds the batch into the rows.
 */
const nativeProduct = (
  backend: WasmBackendInternals, addon: NativeGemmAddon, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo,
  d: { M: number; N: number; K: number; transposeA: boolean; transposeB: boolean; aBatch: number[]; bBatch: number[]; outBatch: number[] }
): void => {
  const { N, K, transposeA, transposeB, aBatch, bBatch, outBatch } = d
  const aBase = heapOffset(backend, a)
  const bBase = heapOffset(backend, b)
  const outBase = heapOffset(backend, out)
  const slicesTotal = sizeOf(outBatch)
  const fold = sizeOf(bBatch) === 1 && sizeOf(aBatch) === slicesTotal && !transposeA
  const M = fold ? d.M * slicesTotal : d.M
  const slices = fold ? 1 : slicesTotal
  const lda = transposeA ? M : K
  const ldb = transposeB ? K : N
  const table = new Uint32Array(NATIVE_GEMM_FIELDS * slices)
  const sa = broadcastStrides(aBatch, outBatch)
  const sb = broadcastStrides(bBatch, outBatch)
  const rank = outBatch.length
  const index = new Array<number>(rank).fill(0)
  for (let o = 0; o < slices; o++) {
    let ia = 0
    let ib = 0
    for (let q = 0; q < rank; q++) {
      ia += index[q] * sa[q]
      ib += index[q] * sb[q]
    }
    table.set(
      [transposeA ? 1 : 0, transposeB ? 1 : 0, M, N, K, aBase + 4 * ia * M * K, lda, bBase + 4 * ib * K * N, ldb, outBase + 4 * o * M * N, N],
      NATIVE_GEMM_FIELDS * o
    )
    for (let q = rank - 1; q >= 0; q--) {
      if (++index[q] < outBatch[q]) break
      index[q] = 0
    }
  }
  addon.gemm(heapBytes(backend), table, slices)
}

interface SimdGemm {
  readonly kernel: GemmKernel
  /** threaded build only: the kernel on this thread and helper workers (products dealt out) */
  readonly team?: GemmTeam
}
/** The kernel of the live wasm backend; a re-created backend or a thread change gets a new one, old helpers stop. */
let simdGemm: { readonly backend: object; readonly threads: number; readonly fma: boolean; readonly gemm: SimdGemm } | undefined
const gemmFor = (backend: WasmBackendInternals): SimdGemm => {
  const fma = gemmUsesFusedMadd()
  if (simdGemm?.backend === backend && simdGemm.threads === gemmThreads && simdGemm.fma === fma) return simdGemm.gemm
  simdGemm?.gemm.team?.dispose()
  const memory = backendMemory(backend.wasm)
  const blocking = { ...DEFAULT_BLOCKING, fma }
  const kernel = instantiateGemm(memory, blocking)
  const gemm = gemmThreads > 1 && isSharedMemory(memory) ? { kernel, team: GemmTeam.create(memory, kernel, gemmThreads, blocking) } : { kernel }
  simdGemm = { backend, threads: gemmThreads, fma, gemm }
  return gemm
}

/**
 * A product through the SIMD GEMM, straight into `out`. A is read through strides (a transposed A needs no
 * copy); B is transposed by a JS copy when transposeB (the kernel's vector loads run along B's rows). Batch dims
 * broadcast as in batchMatMulXnnpack; a B shared by every slice with a row-major A folds the batch into the rows.
 * The work goes out as jobs (a slice, or a block of its rows); with a team, the jobs are split between two
 * threads. Each output element is computed whole by one job, so the split never changes a bit.
 */
const simdProduct = (
  backend: WasmBackendInternals, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo,
  d: { M: number; N: number; K: number; transposeA: boolean; transposeB: boolean; aBatch: number[]; bBatch: number[]; outBatch: number[] }
): void => {
  const { N, K, transposeA, transposeB, aBatch, bBatch, outBatch } = d
  const { kernel, team } = gemmFor(backend)
  const rhs = transposeB ? transposeLastTwo(backend, b) : b
  try {
    const aBase = heapOffset(backend, a)
    const bBase = heapOffset(backend, rhs)
    const outBase = heapOffset(backend, out)
    const slicesTotal = sizeOf(outBatch)
    const fold = sizeOf(bBatch) === 1 && sizeOf(aBatch) === slicesTotal && !transposeA
    const M = fold ? d.M * slicesTotal : d.M
    const slices = fold ? 1 : slicesTotal
    const aRow = transposeA ? 4 : 4 * K
    const aK = transposeA ? 4 * d.M : 4
    // rows per job: whole slices when there are enough of them to share out, else each slice in blocks of rows
    // (multiples of 4, at least 16 rows), about 4 per thread so that a slow thread's share is taken up by the others
    const threads = team?.size ?? 1
    const parts = threads > 1 && slices < 4 * threads ? Math.max(1, Math.min(Math.ceil((4 * threads) / slices), Math.floor(M / 16))) : 1
    const block = parts === 1 ? M : Math.min(M, (Math.ceil(M / parts) + 3) & ~3)
    const jobsPerSlice = Math.ceil(M / block)
    const args = new Int32Array(GEMM_ARGS * slices * jobsPerSlice)
    const sa = broadcastStrides(aBatch, outBatch)
    const sb = broadcastStrides(bBatch, outBatch)
    const rank = outBatch.length
    const index = new Array<number>(rank).fill(0)
    let jobs = 0
    for (let o = 0; o < slices; o++) {
      let ia = 0
      let ib = 0
      for (let q = 0; q < rank; q++) {
        ia += index[q] * sa[q]
        ib += index[q] * sb[q]
      }
      for (let r0 = 0; r0 < M; r0 += block) {
        const rows = Math.min(block, M - r0)
        args.set(
          [aBase + 4 * ia * M * K + r0 * aRow, bBase + 4 * ib * K * N, outBase + 4 * (o * M + r0) * N, rows, N, K, aRow, aK, 4 * N, 4 * N],
          GEMM_ARGS * jobs++
        )
      }
      for (let q = rank - 1; q >= 0; q--) {
        if (++index[q] < outBatch[q]) break
        index[q] = 0
      }
    }
    if (team !== undefined && jobs > 1) team.run(args, jobs)
    else {
      for (let j = 0; j < jobs; j++) {
        const p = GEMM_ARGS * j
        kernel(args[p]!, args[p + 1]!, args[p + 2]!, args[p + 3]!, N, K, aRow, aK, 4 * N, 4 * N)
      }
    }
  } finally {
    if (rhs !== b) backend.disposeData(rhs.dataId)
  }
}

const unsortedSegmentSumJs: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
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

const oneHotJs: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
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

const stockKernels = new Map<string, tf.KernelConfig>()
/** Backends each stock kernel's setupFunc ran for. A stock kernel cwraps its C function in setupFunc, which the
 * engine only runs for *registered* kernels when a backend initialises; after a wasm backend is re-created
 * (thread change) while the override is registered, the stock function would still point into the old module. */
const stockSetupDone = new Map<string, WeakSet<object>>()
const delegate = (name: string, args: Parameters<tf.KernelFunc>[0]) => {
  const stock = stockKernels.get(name)
  if (stock === undefined) throw new Error(`${name}: the stock wasm kernel was not saved before the override`)
  let done = stockSetupDone.get(name)
  if (done === undefined) stockSetupDone.set(name, (done = new WeakSet()))
  if (!done.has(args.backend)) {
    stock.setupFunc?.(args.backend)
    done.add(args.backend)
  }
  return stock.kernelFunc(args)
}

const sumLeadingAxes: tf.KernelFunc = (args) => {
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

const gatherRows: tf.KernelFunc = (args) => {
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

const identityShared: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  if (x.dtype === "string") return delegate("Identity", args)
  ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
}

/**
 * Transpose (js) for batched matrix transposes: after dropping size-1 axes and merging axes that stay adjacent,
 * the last two axes swap behind leading axes that stay in order ([1024, 128] -> [128, 1024], [B, H, T, T] ->
 * [B, H, T, T]^T). A copy, so exact. Other permutations and dtypes go to the stock kernel, e.g. [B, T, H, hd] ->
 * [B, H, T, hd] (rows of hd move): measured, the stock kernel does that in 0.24 ms for [8, 128, 4, 32], a JS row
 * copy in 0.53 ms.
 */
const transposeJs: tf.KernelFunc = (args) => {
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

export const TRANSPOSE_OVERRIDE = "Transpose(js, matrix swaps)"

/** Cast to the dtype a tensor already has (every float32 gradient that casts its saved input) shares the buffer, as
 * Identity does; real conversions go to the stock kernel. */
const castShared: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType }
  if (dtype !== x.dtype || x.dtype === "string") return delegate("Cast", args)
  ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
}

export const CAST_OVERRIDE = "Cast(shared data when the dtype is unchanged)"

type HeapView = Float32Array | Int32Array | Uint8Array
/**
 * rows x len elements: os[oOff + r oStride + j] = xs[xOff + r xStride + j]. Short rows by a plain loop (4x faster
 * than the stock kernels' subarray().set() per row, which allocates a view object per row), long rows by set.
 * Two copies of one loop on purpose: V8 optimises an element access for the array types it has seen, and the
 * float32 one (every training step) stays monomorphic while int32 and bool (token ids, masks) use the other.
 */
const copyRowsF32 = (
  xs: Float32Array, xOff: number, xStride: number, os: Float32Array, oOff: number, oStride: number, rows: number, len: number
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
const copyRowsOther = (
  xs: HeapView, xOff: number, xStride: number, os: HeapView, oOff: number, oStride: number, rows: number, len: number
): void => {
  for (let r = 0; r < rows; r++) {
    const s = xOff + r * xStride
    const d = oOff + r * oStride
    for (let j = 0; j < len; j++) os[d + j] = xs[s + j]
  }
}
const copyRows = (
  xs: HeapView, xOff: number, xStride: number, os: HeapView, oOff: number, oStride: number, rows: number, len: number
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
const fillSlices = (backend: WasmBackendInternals, x: tf.TensorInfo, axis: number, parts: ReadonlyArray<{ out: tf.TensorInfo; begin: number }>): void => {
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
const sliceJs: tf.KernelFunc = (args) => {
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
const splitVJs: tf.KernelFunc = (args) => {
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
const concatJs: tf.KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendInternals
  const inputs = args.inputs as unknown as tf.TensorInfo[]
  const list = Array.isArray(inputs) ? inputs : Object.values(inputs as Record<string, tf.TensorInfo>)
  if (list.length < 2 || !COPYABLE.has(list[0].dtype) || list.some((t) => t.dtype !== list[0].dtype)) return delegate("Concat", args)
  const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, list[0].shape)[0]
  tf.backend_util.assertParamsConsistent(list.map((t) => t.shape), axis)
  const outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), axis)
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

export const SLICE_OVERRIDE = "Slice/SplitV/Concat(js, row copies)"

export const IDENTITY_OVERRIDE = "Identity(shared data)"
export const SUM_OVERRIDE = "Sum(js, leading axes)"
export const GATHER_OVERRIDE = "GatherV2(js, axis 0)"

const override = (name: string, kernelFunc: tf.KernelFunc): void => {
  const current = tf.getKernel(name, "wasm")
  if (current?.kernelFunc === kernelFunc) return
  if (current !== undefined) {
    stockKernels.set(name, current)
    tf.unregisterKernel(name, "wasm")
  }
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc })
}
const restore = (name: string, kernelFunc: tf.KernelFunc): void => {
  const stock = stockKernels.get(name)
  if (tf.getKernel(name, "wasm")?.kernelFunc !== kernelFunc || stock === undefined) return
  tf.unregisterKernel(name, "wasm")
  tf.registerKernel(stock)
  const live = tf.findBackend("wasm")
  if (live != null) stock.setupFunc?.(live) // see restoreStockBatchMatMul
}

/** The tuned speed overrides (4, 5, 6 above): kernel name -> this file's implementation. */
const SPEED_OVERRIDES: ReadonlyArray<readonly [string, tf.KernelFunc]> = [
  ["Sum", sumLeadingAxes],
  ["GatherV2", gatherRows],
  ["Identity", identityShared],
  ["Transpose", transposeJs],
  ["Cast", castShared],
  ["Slice", sliceJs],
  ["SplitV", splitVJs],
  ["Concat", concatJs]
]

/** Installs the speed overrides for Sum, GatherV2, Identity, Transpose, Cast, Slice, SplitV, Concat (idempotent). */
export const installReductionAndGatherOverrides = (): void => {
  for (const [name, kernel] of SPEED_OVERRIDES) override(name, kernel)
}
export const restoreStockReductionAndGather = (): void => {
  for (const [name, kernel] of SPEED_OVERRIDES) restore(name, kernel)
}
export const areReductionAndGatherOverridden = (): boolean =>
  SPEED_OVERRIDES.every(([name, kernel]) => tf.getKernel(name, "wasm")?.kernelFunc === kernel)

let stockBatchMatMul: tf.KernelConfig | null = null

/** Replaces wasm's BatchMatMul by the XNNPACK-batched kernel (idempotent). */
export const installBatchMatMulOverride = (): void => {
  const current = tf.getKernel("BatchMatMul", "wasm")
  if (current?.kernelFunc === batchMatMulXnnpack) return
  if (current !== undefined) {
    stockBatchMatMul = current
    tf.unregisterKernel("BatchMatMul", "wasm")
  }
  tf.registerKernel({ kernelName: "BatchMatMul", backendName: "wasm", kernelFunc: batchMatMulXnnpack })
}

/** Puts the stock wasm BatchMatMul back (for "wasm stock" measurements and parity baselines). */
export const restoreStockBatchMatMul = (): void => {
  const current = tf.getKernel("BatchMatMul", "wasm")
  if (current?.kernelFunc !== batchMatMulXnnpack || stockBatchMatMul === null) return
  tf.unregisterKernel("BatchMatMul", "wasm")
  tf.registerKernel(stockBatchMatMul)
  // The stock setupFunc cwraps against one backend instance and only runs when a backend initialises: run it
  // for the live instance, which may have been re-created (thread change) while the stock kernel was out.
  const live = tf.findBackend("wasm")
  if (live != null) stockBatchMatMul.setupFunc?.(live)
}

/** Adds UnsortedSegmentSum to wasm (idempotent): the gradient of tf.gather. */
export const installSegmentSumKernel = (): void => {
  if (tf.getKernel("UnsortedSegmentSum", "wasm") !== undefined) return
  tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName: "wasm", kernelFunc: unsortedSegmentSumJs })
}

export const isBatchMatMulOverridden = (): boolean =>
  tf.getKernel("BatchMatMul", "wasm")?.kernelFunc === batchMatMulXnnpack

/**
 * 7. FusedAdamW (wasm simd), tuned: a kernel tfjs does not have. One AdamW update of one parameter in one pass
 * (wasm-adamw.ts): inputs p, m, v, g; attrs the float32 constants; outputs p', m', v'. models/train/adamw.ts uses
 * it when the live backend has it, and it computes bitwise what that file's op path computes.
 */
export const FUSED_ADAMW_KERNEL_NAME = "FusedAdamW"
export const FUSED_ADAMW_KERNEL = "FusedAdamW(wasm simd)"

let adamwKernel: { readonly backend: object; readonly kernel: AdamWKernel } | undefined
const fusedAdamW: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { p, m, v, g } = inputs as { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo }
  const size = sizeOf(p.shape)
  for (const [name, t] of [["p", p], ["m", m], ["v", v], ["g", g]] as const) {
    if (t.dtype !== "float32" || sizeOf(t.shape) !== size) {
      throw new Error(`FusedAdamW: ${name} must be float32 with ${size} values like the parameter (got ${t.dtype} [${t.shape.join(", ")}])`)
    }
  }
  if (adamwKernel?.backend !== backend) adamwKernel = { backend, kernel: instantiateAdamW(backendMemory(backend.wasm)) }
  const outs = [backend.makeOutput(p.shape, "float32"), backend.makeOutput(p.shape, "float32"), backend.makeOutput(p.shape, "float32")]
  const [outP, outM, outV] = outs.map((t) => heapOffset(backend, t))
  adamwKernel.kernel(
    heapOffset(backend, p), heapOffset(backend, m), heapOffset(backend, v), heapOffset(backend, g),
    outP!, outM!, outV!, size, attrs as unknown as AdamWConstants
  )
  return outs
}

/** Adds FusedAdamW to wasm (idempotent). */
export const installFusedAdamW = (): void => {
  if (tf.getKernel(FUSED_ADAMW_KERNEL_NAME, "wasm") !== undefined) return
  tf.registerKernel({ kernelName: FUSED_ADAMW_KERNEL_NAME, backendName: "wasm", kernelFunc: fusedAdamW })
}
/** Removes it (stock measurements: the optimizer then runs as tfjs ops). */
export const removeFusedAdamW = (): void => {
  if (tf.getKernel(FUSED_ADAMW_KERNEL_NAME, "wasm") !== undefined) tf.unregisterKernel(FUSED_ADAMW_KERNEL_NAME, "wasm")
}
export const hasFusedAdamW = (backendName: string): boolean => tf.getKernel(FUSED_ADAMW_KERNEL_NAME, backendName) !== undefined

/** Replaces wasm's OneHot, which ignores the dtype (idempotent). */
export const installOneHotFix = (): void => {
  if (tf.getKernel("OneHot", "wasm")?.kernelFunc === oneHotJs) return
  if (tf.getKernel("OneHot", "wasm") !== undefined) tf.unregisterKernel("OneHot", "wasm")
  tf.registerKernel({ kernelName: "OneHot", backendName: "wasm", kernelFunc: oneHotJs })
}
