/**
 * A small float32 GEMM written straight in WebAssembly SIMD (assembled below, byte by byte: no toolchain at
 * install time), run on the tfjs wasm backend's own heap; the tuned engine runs every matrix product on it.
 *
 * Why: XNNPACK (what tfjs-backend-wasm multiplies with) creates an operator, packs its weights and deletes it
 * for every product, a fixed cost whatever the size, so the reference model's small attention products ran several
 * times slower than the same FLOPs in one product (docs/engine-measurements.md). This kernel has no per-call set-up
 * and reads A through (row, k) strides, so a transposed A costs no copy either.
 *
 * Numerics. Without fused multiply-add, every output is 0 + a[i,0] b[0,j] + a[i,1] b[1,j] + ... summed over k in
 * order, one float32 multiply then one float32 add per term: the order XNNPACK's GEMM micro-kernels use
 * (acc = bias (0 here); acc += a_k * b_k for k = 0, 1, ...), so the two give the same bits (tested). With `fma`
 * (f32x4.relaxed_madd, the tuned engine's default where the CPU fuses it), the same order with one rounding per
 * term (the scalar loop of leftover columns, N mod 8, still multiplies then adds): twice the multiply-adds per cycle
 * on an FMA CPU, and results within float32 rounding of the others (tested against a float64 reference),
 * deterministic, the same on any number of threads.
 *
 * Layout: C[M, N] = A[M, K] B[K, N] with
 *   A[i, k] at a + i * aRow + k * aK   (bytes; aRow = 4K, aK = 4 for row-major A; aRow = 4, aK = 4M for A^T)
 *   B[k, j] at b + k * bRow + 4 j      (rows of B contiguous: the vector loads run along j)
 *   C[i, j] at c + i * cRow + 4 j
 * Tiles of 4 rows x 8 columns (8 accumulators of 4 lanes, each B row read once per 4 rows of A); leftover rows
 * one at a time, leftover columns (N mod 8) by a scalar loop with the same summation order. Cache blocking: k in
 * blocks of 128 and columns in blocks of 128 (partial sums carried in C between k blocks, which keeps the order),
 * which about doubles the speed of the large products (docs/engine-measurements.md).
 *
 * Threads: GemmTeam (below) shares a call's products (slices, or blocks of rows) among this thread and helper
 * workers through an atomic queue; each product is computed whole by one thread.
 */

import { Worker } from "node:worker_threads"
import { Code, F32, I32, V128, cachedModule, instantiate, isSharedMemory, moduleBytes, type WasmMemory } from "./wasm-assembler.js"

// --- the kernel ------------------------------------------------------------------------------------------------

// parameters
const A = 0,
  B = 1,
  C = 2,
  M = 3,
  N = 4,
  K = 5,
  A_ROW = 6,
  A_K = 7,
  B_ROW = 8,
  C_ROW = 9
// i32 locals
const I = 10,
  J = 11,
  KK = 12,
  PB = 13,
  PC = 14,
  M4 = 15,
  N8 = 16,
  PA = 17 // PA..PA+3: row pointers of A
const K0 = 21,
  KN = 22,
  J0 = 23,
  JE = 24 // the current block: k in [K0, K0 + KN), columns [J0, JE)
const I32_LOCALS = 15 // I .. JE
// v128 locals
const ACC = 25 // ACC + 2r (+1): accumulators of row r, columns j..j+3 and j+4..j+7
const B0 = 33,
  B1 = 34,
  AV = 35
const V128_LOCALS = 11
// f32 local
const S = 36

/** Cache blocking: k in blocks of KC, columns in blocks of NC (multiple of 8); the sizes were chosen by measurement. */
export interface GemmBlocking {
  readonly kc: number
  readonly nc: number
  /** multiply-add with f32x4.relaxed_madd (one rounding where the CPU fuses it) instead of mul then add */
  readonly fma?: boolean
}
export const DEFAULT_BLOCKING: GemmBlocking = { kc: 128, nc: 128 }

/** min(x, y) of two i32 values already computed by `x` and `y` (each pushes one value). */
const emitMin = (c: Code, x: () => void, y: () => void): void => {
  x()
  y()
  x()
  y()
  c.ltS().select()
}

/**
 * Emits the loop over 8-column tiles in [J0, JE) for `rows` (4 or 1) rows starting at row I, over k in
 * [K0, K0 + KN). Accumulators start at 0 in the first k block and at the partial sums already in C in the
 * next ones: the stored float32 partial is exactly the accumulator, so blocking keeps the summation order.
 */
const emitTileRow = (c: Code, rows: number, fma: boolean): void => {
  c.get(J0).set(J)
  c.block().loop()
  c.get(J).get(JE).geS().brIf(1)
  // PC = c + i * cRow + 4 j
  c.get(C).get(I).get(C_ROW).mul().add().get(J).i32(4).mul().add().set(PC)
  for (let r = 0; r < rows; r++) {
    for (let half = 0; half < 2; half++) {
      c.get(K0).eqz().ifV128()
      c.v128Zero()
      c.else()
      c.get(PC)
      if (r > 0) c.get(C_ROW).i32(r).mul().add()
      c.v128Load(16 * half)
      c.end()
      c.set(ACC + 2 * r + half)
    }
  }
  for (let r = 0; r < rows; r++) {
    // PA+r = a + (i + r) * aRow + k0 * aK
    c.get(A)
      .get(I)
      .i32(r)
      .add()
      .get(A_ROW)
      .mul()
      .add()
      .get(K0)
      .get(A_K)
      .mul()
      .add()
      .set(PA + r)
  }
  c.get(B).get(K0).get(B_ROW).mul().add().get(J).i32(4).mul().add().set(PB)
  c.get(KN).set(KK)
  c.block().loop()
  c.get(KK).eqz().brIf(1)
  c.get(PB).v128Load(0).set(B0)
  c.get(PB).v128Load(16).set(B1)
  for (let r = 0; r < rows; r++) {
    c.get(PA + r)
      .f32Load()
      .f32x4Splat()
      .set(AV)
    if (fma) {
      c.get(AV)
        .get(B0)
        .get(ACC + 2 * r)
        .f32x4RelaxedMadd()
        .set(ACC + 2 * r)
      c.get(AV)
        .get(B1)
        .get(ACC + 2 * r + 1)
        .f32x4RelaxedMadd()
        .set(ACC + 2 * r + 1)
    } else {
      c.get(ACC + 2 * r)
        .get(AV)
        .get(B0)
        .f32x4Mul()
        .f32x4Add()
        .set(ACC + 2 * r)
      c.get(ACC + 2 * r + 1)
        .get(AV)
        .get(B1)
        .f32x4Mul()
        .f32x4Add()
        .set(ACC + 2 * r + 1)
    }
    c.bump(PA + r, { local: A_K })
  }
  c.bump(PB, { local: B_ROW })
  c.bump(KK, -1)
  c.br(0)
  c.end().end()
  for (let r = 0; r < rows; r++) {
    c.get(PC)
      .get(ACC + 2 * r)
      .v128Store(0)
    c.get(PC)
      .get(ACC + 2 * r + 1)
      .v128Store(16)
    if (r + 1 < rows) c.bump(PC, { local: C_ROW })
  }
  c.bump(J, 8)
  c.br(0)
  c.end().end()
}

const kernelBody = (blocking: GemmBlocking): number[] => {
  const { kc, nc } = blocking
  const c = new Code()
  c.get(M).i32(~3).and().set(M4)
  c.get(N).i32(~7).and().set(N8)
  // for each k block, each column block: rows four at a time, then the leftover rows one at a time
  c.i32(0).set(K0)
  c.block().loop()
  c.get(K0).get(K).geS().brIf(1)
  emitMin(
    c,
    () => c.i32(kc),
    () => c.get(K).get(K0).sub()
  )
  c.set(KN)
  c.i32(0).set(J0)
  c.block().loop()
  c.get(J0).get(N8).geS().brIf(1)
  emitMin(
    c,
    () => c.get(J0).i32(nc).add(),
    () => c.get(N8)
  )
  c.set(JE)
  c.i32(0).set(I)
  c.block().loop()
  c.get(I).get(M4).geS().brIf(1)
  emitTileRow(c, 4, blocking.fma === true)
  c.bump(I, 4)
  c.br(0)
  c.end().end()
  c.block().loop()
  c.get(I).get(M).geS().brIf(1)
  emitTileRow(c, 1, blocking.fma === true)
  c.bump(I, 1)
  c.br(0)
  c.end().end()
  c.bump(J0, nc)
  c.br(0)
  c.end().end()
  c.bump(K0, kc)
  c.br(0)
  c.end().end()
  // columns [N8, N), every row: scalar over the whole k range, same order (s = 0; s += a_k * b_k)
  c.i32(0).set(I)
  c.block().loop()
  c.get(I).get(M).geS().brIf(1)
  c.get(N8).set(J)
  c.block().loop()
  c.get(J).get(N).geS().brIf(1)
  c.f32Const0().set(S)
  c.get(A).get(I).get(A_ROW).mul().add().set(PA)
  c.get(B).get(J).i32(4).mul().add().set(PB)
  c.get(K).set(KK)
  c.block().loop()
  c.get(KK).eqz().brIf(1)
  c.get(S).get(PA).f32Load().get(PB).f32Load().f32Mul().f32Add().set(S)
  c.bump(PA, { local: A_K })
  c.bump(PB, { local: B_ROW })
  c.bump(KK, -1)
  c.br(0)
  c.end().end()
  c.get(C).get(I).get(C_ROW).mul().add().get(J).i32(4).mul().add().get(S).f32Store()
  c.bump(J, 1)
  c.br(0)
  c.end().end()
  c.bump(I, 1)
  c.br(0)
  c.end().end()
  return c.functionBody([
    [I32_LOCALS, I32],
    [V128_LOCALS, V128],
    [1, F32]
  ])
}

/** The module's bytes; `shared`: import a shared memory (the threaded tfjs build) rather than a plain one. */
export const gemmModuleBytes = (shared: boolean, blocking: GemmBlocking = DEFAULT_BLOCKING): Uint8Array =>
  moduleBytes({ shared, name: "gemm", params: new Array<number>(10).fill(I32), body: kernelBody(blocking) })

/**
 * C = A B over byte offsets of one WebAssembly memory (see the layout above). All offsets and strides in bytes;
 * row-major A: aRow = 4K, aK = 4; A stored transposed ([K, M]): aRow = 4, aK = 4M.
 */
export type GemmKernel = (
  a: number,
  b: number,
  c: number,
  m: number,
  n: number,
  k: number,
  aRow: number,
  aK: number,
  bRow: number,
  cRow: number
) => void

/** The compiled module (one per memory kind and blocking), e.g. to hand to a worker. */
export const gemmModule = (shared: boolean, blocking: GemmBlocking = DEFAULT_BLOCKING): object =>
  cachedModule(`gemm/${shared}/${blocking.kc}/${blocking.nc}/${blocking.fma === true}`, () => gemmModuleBytes(shared, blocking))

/** The kernel instantiated over `memory` (the tfjs wasm heap). */
export const instantiateGemm = (memory: WasmMemory, blocking: GemmBlocking = DEFAULT_BLOCKING): GemmKernel => {
  return instantiate(gemmModule(isSharedMemory(memory), blocking), memory).gemm as GemmKernel
}

// --- more threads: helper workers take products from a shared queue -------------------------------------------

/** Arguments per product in the job table (the GemmKernel's, in order). */
export const GEMM_ARGS = 10
const JOB_CAPACITY = 4096 // products per round; more are done in several rounds
// control words
const SEQ = 0,
  NEXT = 1,
  COUNT = 2,
  DONE = 3,
  FAILED = 4
/** NEXT while the table is being written: every grab lands past COUNT, so no one reads a half-written job. */
const CLOSED = 1 << 30
/**
 * Atomics.load checks before sleeping: about 2 ms of spinning (docs/engine-measurements.md). Products come
 * every millisecond or so during a training step. Sleeping helpers do not delay a product (this thread starts on
 * the queue at once and they join when they wake), but a spinning one joins at once.
 */
const SPIN_CHECKS = 200_000

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads")
const { module, memory, control, jobs } = workerData
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm
const ctl = new Int32Array(control)
const args = new Int32Array(jobs)
let seen = 0
for (;;) {
  // spin first (SPIN_CHECKS), then short sleeps, each followed by a fresh look at SEQ
  for (let spin = 0; spin < ${SPIN_CHECKS} && Atomics.load(ctl, ${SEQ}) === seen; spin++);
  while (Atomics.load(ctl, ${SEQ}) === seen) Atomics.wait(ctl, ${SEQ}, seen, 50)
  seen = Atomics.load(ctl, ${SEQ})
  if (seen < 0) break
  for (;;) {
    // COUNT before the grab: a grab past a finished round's COUNT may already belong to the next round, whose
    // table is complete only once NEXT reopens; a grab below the COUNT read first is a job of a live round
    const count = Atomics.load(ctl, ${COUNT})
    const i = Atomics.add(ctl, ${NEXT}, 1)
    if (i >= count) break
    try {
      const o = i * ${GEMM_ARGS}
      gemm(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4], args[o + 5], args[o + 6], args[o + 7], args[o + 8], args[o + 9])
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, 1)
    }
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === count) Atomics.notify(ctl, ${DONE})
  }
}
`

interface WorkerHandle {
  unref(): void
  terminate(): Promise<number>
}

/**
 * The kernel on `size` threads: this one and size - 1 helper workers, each running its own instance over the
 * same shared memory. A call's products go into a shared table; every thread, this one first, takes the next
 * product from an atomic counter until none is left (so a helper that is asleep, or descheduled by a busy
 * machine, delays nothing: the others take its share), then this thread waits for the products in flight. Each
 * product is computed whole by one thread, so results are bitwise the same on any number of threads. Only for a
 * shared memory (tfjs's threaded build); helpers are unref'd (they never keep the process alive).
 */
export class GemmTeam {
  private seq = 0
  private constructor(
    private readonly kernel: GemmKernel,
    private readonly workers: ReadonlyArray<WorkerHandle>,
    private readonly control: Int32Array,
    private readonly jobs: Int32Array
  ) {}

  /** Threads in the team, this one included. */
  get size(): number {
    return this.workers.length + 1
  }

  /** `blocking` must be the one `kernel` was instantiated with: the helpers run the same module. */
  static create(memory: WasmMemory, kernel: GemmKernel, size = 2, blocking: GemmBlocking = DEFAULT_BLOCKING): GemmTeam {
    if (!Number.isInteger(size) || size < 2) throw new Error(`a GEMM team needs at least 2 threads (got ${size})`)
    const control = new Int32Array(new SharedArrayBuffer(4 * 8))
    control[NEXT] = CLOSED
    const jobs = new Int32Array(new SharedArrayBuffer(4 * GEMM_ARGS * JOB_CAPACITY))
    const workers = Array.from({ length: size - 1 }, (): WorkerHandle => {
      const worker: WorkerHandle = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: gemmModule(true, blocking), memory, control: control.buffer, jobs: jobs.buffer }
      })
      worker.unref()
      return worker
    })
    return new GemmTeam(kernel, workers, control, jobs)
  }

  /** Runs `count` products whose arguments are args[GEMM_ARGS * i ..], shared out over the team. */
  run(args: Int32Array, count: number): void {
    const ctl = this.control
    for (let start = 0; start < count; start += JOB_CAPACITY) {
      const n = Math.min(count - start, JOB_CAPACITY)
      // publish: close the queue, write the table, reopen it, wake the helpers
      Atomics.store(ctl, NEXT, CLOSED)
      this.jobs.set(args.subarray(GEMM_ARGS * start, GEMM_ARGS * (start + n)))
      Atomics.store(ctl, COUNT, n)
      Atomics.store(ctl, DONE, 0)
      Atomics.store(ctl, NEXT, 0)
      Atomics.store(ctl, SEQ, ++this.seq)
      Atomics.notify(ctl, SEQ)
      // work the queue like a helper
      const k = this.kernel
      const t = this.jobs
      for (;;) {
        const i = Atomics.add(ctl, NEXT, 1)
        if (i >= n) break
        const o = i * GEMM_ARGS
        k(t[o]!, t[o + 1]!, t[o + 2]!, t[o + 3]!, t[o + 4]!, t[o + 5]!, t[o + 6]!, t[o + 7]!, t[o + 8]!, t[o + 9]!)
        Atomics.add(ctl, DONE, 1)
      }
      this.awaitDone(n)
      if (Atomics.load(ctl, FAILED) !== 0) {
        throw new Error(
          "BatchMatMul(simd): a GEMM helper worker failed (out-of-bounds access in the kernel): rerun with --threads 1 and report it"
        )
      }
    }
  }

  /** Waits until `n` products are done: spin, then 2 ms sleeps with a fresh look after each; gives up after 30 s. */
  private awaitDone(n: number): void {
    const ctl = this.control
    for (let spin = 0; spin < SPIN_CHECKS && Atomics.load(ctl, DONE) < n; spin++);
    const started = Date.now()
    for (let done = Atomics.load(ctl, DONE); done < n; done = Atomics.load(ctl, DONE)) {
      Atomics.wait(ctl, DONE, done, 2)
      if (Date.now() - started > 30_000 && Atomics.load(ctl, DONE) < n) {
        throw new Error("BatchMatMul(simd): a GEMM helper worker did not finish its product within 30 s (crashed?): rerun with --threads 1")
      }
    }
  }

  dispose(): void {
    Atomics.store(this.control, SEQ, -1)
    Atomics.notify(this.control, SEQ)
    for (const w of this.workers) void w.terminate()
  }
}
