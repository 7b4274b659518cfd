/**
 * BatchMatMul, replaced in the tuned set: every float32 product straight on the wasm heap, on one of three GEMMs:
 *  - the WebAssembly SIMD GEMM of wasm-gemm.ts (the default): A is read through strides, so a transposed A costs
 *    no copy; a transposed B is copied once by a JS transpose (the GEMM's vector loads run along B's rows); the
 *    products (slices, or blocks of rows) go to a team of threads through a shared queue when the engine runs
 *    more than one thread;
 *  - oneDNN's sgemm (native-gemm.ts) when its addon loads and the engine asks for it: one table of products per
 *    call, transposed and broadcast operands read in place;
 *  - XNNPACK, through the stock kernel's C function on heap aliases (setSimdGemmPolicy("never")): the reference the
 *    GEMM is tested against (without fused multiply-add the GEMM sums in XNNPACK's order, to the same bits).
 * Batch dims broadcast on every path (a size-1 batch dim is read with stride 0), and a B shared by every slice
 * with a row-major A folds the batch into the rows (the [B, T, K] x [K, N] linear-layer case).
 *
 * Why: the stock kernel (src/cc/kernels/BatchMatMul.cc) uses XNNPACK's fully-connected operator only when
 * transposeA = transposeB = false and the batch is 1; every other case (all the transposed products autodiff
 * makes, every 4-D attention product) runs a scalar loop, which took most of a training step. XNNPACK itself
 * creates its operator and packs its weights on every product, cannot read a transposed operand, and its pool
 * thread fought the GEMM's helper for the second core. Figures: docs/engine-measurements.md.
 *
 * Numerics: the paths differ from the stock scalar loop (which sums in another order); on each path the operand
 * roles and JS transposes do not change its results, and splitting the work over threads never changes a bit
 * (each output element is computed whole by one job). Fused multiply-add changes the last bits of every product,
 * so the engine record names it ("BatchMatMul(simd gemm, fma)").
 */
import * as tf from "@tensorflow/tfjs"
import { backendMemory, isSharedMemory, relaxedSimd } from "../wasm-assembler.js"
import { DEFAULT_BLOCKING, GEMM_ARGS, GemmTeam, instantiateGemm, type GemmKernel } from "../wasm-gemm.js"
import { describeNativeGemm, NATIVE_GEMM_FIELDS, type NativeGemmAddon, type NativeGemmInfo } from "../native-gemm.js"
import { transposeLastTwo, transposeMatrices } from "./copies.js"
import { heapBytes, heapOffset, shapeBytes, sizeOf, type WasmBackendInternals } from "./heap.js"

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
 * instead of two, and on a CPU with FMA (x86-64 since 2013) twice the products per cycle (figures:
 * docs/engine-measurements.md). It changes the last bits of every product, so results are bitwise reproducible per
 * engine *and* multiply-add kind, which the engine record names ("BatchMatMul(simd gemm, fma)"). Off: XNNPACK's own
 * summation, bit for bit (tests compare the two that way).
 */
let gemmFma = true
export const setGemmFma = (on: boolean): void => {
  gemmFma = on
}
/** Whether the GEMM multiplies and adds in one rounding (fma asked, relaxed SIMD compiles, the CPU fuses). */
export const gemmUsesFusedMadd = (): boolean => gemmFma && relaxedSimd().available && relaxedSimd().fused

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

/** What the engine record names as the BatchMatMul kernel: the native library, or the SIMD GEMM (and fma). */
export const batchMatMulLabel = (): string =>
  nativeGemm !== null
    ? `BatchMatMul(${describeNativeGemm(nativeGemm.info)})`
    : `BatchMatMul(simd gemm${gemmUsesFusedMadd() ? ", fma" : ""})`

/** The shape of one BatchMatMul: out[..outBatch, M, N] = op(a)[..aBatch, M, K] op(b)[..bBatch, K, N]. */
interface ProductDims {
  readonly M: number
  readonly N: number
  readonly K: number
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly aBatch: number[]
  readonly bBatch: number[]
  readonly outBatch: number[]
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

/**
 * Calls `visit(o, ia, ib)` for the first `count` output slices in row-major order over `outBatch`: `ia` and `ib` are
 * the slice indices of the two operands, a size-1 batch dim of either read with stride 0 (broadcast).
 */
const forEachBroadcastSlice = (
  aBatch: ReadonlyArray<number>,
  bBatch: ReadonlyArray<number>,
  outBatch: ReadonlyArray<number>,
  count: number,
  visit: (o: number, ia: number, ib: number) => void
): void => {
  const sa = broadcastStrides(aBatch, outBatch)
  const sb = broadcastStrides(bBatch, outBatch)
  const rank = outBatch.length
  const index = new Array<number>(rank).fill(0)
  for (let o = 0; o < count; o++) {
    let ia = 0
    let ib = 0
    for (let q = 0; q < rank; q++) {
      ia += index[q]! * sa[q]!
      ib += index[q]! * sb[q]!
    }
    visit(o, ia, ib)
    for (let q = rank - 1; q >= 0; q--) {
      if (++index[q]! < outBatch[q]!) break
      index[q] = 0
    }
  }
}

/**
 * The BatchMatMul override: checks the operands, allocates the output and multiplies on the GEMM the engine chose
 * (nativeProduct, simdProduct, or xnnpackProduct under the "never" policy).
 */
export const batchMatMulOnGemm: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendInternals
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean }
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new Error(
      `BatchMatMul on wasm supports float32 only (got ${a.dtype} x ${b.dtype}): cast the operands with tf.cast(x, "float32").`
    )
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
  const dims: ProductDims = { M, N, K, transposeA, transposeB, aBatch, bBatch, outBatch }
  if (simdGemmPolicy === "always") {
    if (nativeGemm !== null) nativeProduct(backend, nativeGemm.addon, a, b, out, dims)
    else simdProduct(backend, a, b, out, dims)
  } else {
    xnnpackProduct(backend, a, b, out, dims)
  }
  return out
}

// --- XNNPACK: the stock kernel's C function on aliases into the heap ---------------------------------------------

type CBatchMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number
) => void

const cBatchMatMul = new WeakMap<object, CBatchMatMul>()
const cFunction = (backend: WasmBackendInternals): CBatchMatMul => {
  let f = cBatchMatMul.get(backend)
  if (f === undefined) {
    // Same signature as the stock kernel's setup (dist/kernels/BatchMatMul.js).
    f = backend.wasm.cwrap("BatchMatMul", null, [
      "number",
      "array",
      "number",
      "number",
      "array",
      "number",
      "number",
      "number",
      "number"
    ]) as CBatchMatMul
    cBatchMatMul.set(backend, f)
  }
  return f
}

/**
 * A product through XNNPACK, straight into `out`: the stock C BatchMatMul called on untransposed batch-1 aliases
 * of heap ranges (tensor ids registered over slices of the operands), the case where it runs XNNPACK's
 * fully-connected operator; one call per batch slice, or one for all when the batch folds into the rows.
 */
const xnnpackProduct = (backend: WasmBackendInternals, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, d: ProductDims): void => {
  const { M, N, K, transposeA, transposeB, aBatch, bBatch, outBatch } = d
  const batches = sizeOf(outBatch)
  const aCount = sizeOf(aBatch)
  const bCount = sizeOf(bBatch)
  // XNNPACK multiplies [rows, K] x [K, cols] only (and packs the right operand, its "weights", on every call).
  // Either
  //   direct:  out = A[M,K] B[K,N]          (transpose a if transposeA, b if transposeB), or
  //   swapped: out = (B^T[N,K] A^T[K,M])^T  (transpose a if not transposeA, b if not transposeB, and the output).
  // The product is cheaper with the larger of M, N as rows and the smaller as cols (smaller packed weights; figures
  // in docs/engine-measurements.md). So: swap when N > M, or when N = M and swapping copies fewer elements. Both
  // give bitwise the same numbers: each output is the same products summed over k in the same order (XNNPACK's
  // GEMM accumulates k sequentially), only the operands' roles swap.
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
      forEachBroadcastSlice(swapped ? bBatch : aBatch, swapped ? aBatch : bBatch, outBatch, batches, (o, il, ir) =>
        product(lhsBase + 4 * il * rows * K, rows, rhsBase + 4 * ir * K * cols, resultBase + 4 * o * rows * cols)
      )
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
}

// --- oneDNN's sgemm through the native addon -------------------------------------------------------------------

/**
 * A product through the native library, straight into `out`: one table row per batch slice (byte offsets of A, B
 * and C in the heap, leading dimensions, transposes), one call into the addon for the whole table. Batch dims
 * broadcast as in simdProduct; a B shared by every slice with a row-major A folds the batch into the rows.
 */
const nativeProduct = (
  backend: WasmBackendInternals,
  addon: NativeGemmAddon,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  d: ProductDims
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
  forEachBroadcastSlice(aBatch, bBatch, outBatch, slices, (o, ia, ib) =>
    table.set(
      [
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        M,
        N,
        K,
        aBase + 4 * ia * M * K,
        lda,
        bBase + 4 * ib * K * N,
        ldb,
        outBase + 4 * o * M * N,
        N
      ],
      NATIVE_GEMM_FIELDS * o
    )
  )
  addon.gemm(heapBytes(backend), table, slices)
}

// --- the WebAssembly SIMD GEMM ------------------------------------------------------------------------------------

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
  const gemm =
    gemmThreads > 1 && isSharedMemory(memory) ? { kernel, team: GemmTeam.create(memory, kernel, gemmThreads, blocking) } : { kernel }
  simdGemm = { backend, threads: gemmThreads, fma, gemm }
  return gemm
}

/**
 * A product through the SIMD GEMM, straight into `out`. A is read through strides (a transposed A needs no
 * copy); B is transposed by a JS copy when transposeB (the kernel's vector loads run along B's rows). Batch dims
 * broadcast as in xnnpackProduct; a B shared by every slice with a row-major A folds the batch into the rows.
 * The work goes out as jobs (a slice, or a block of its rows); with a team, the jobs are split between two
 * threads. Each output element is computed whole by one job, so the split never changes a bit.
 */
const simdProduct = (backend: WasmBackendInternals, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, d: ProductDims): void => {
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
    let jobs = 0
    forEachBroadcastSlice(aBatch, bBatch, outBatch, slices, (o, ia, ib) => {
      for (let r0 = 0; r0 < M; r0 += block) {
        const rows = Math.min(block, M - r0)
        args.set(
          [aBase + 4 * ia * M * K + r0 * aRow, bBase + 4 * ib * K * N, outBase + 4 * (o * M + r0) * N, rows, N, K, aRow, aK, 4 * N, 4 * N],
          GEMM_ARGS * jobs++
        )
      }
    })
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
