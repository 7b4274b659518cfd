/**
 * Plans one training step's memory against the engine's limits, before any weights exist: how many micro-batches
 * a batch is split into and over how many positions at a time the loss is computed (models/train/chunked-loss.ts),
 * or a refusal that gives the bytes needed against the bytes available.
 *
 * Two limits matter. Per tensor: on WebGPU every tensor is one storage-buffer binding, at most the adapter's
 * maxStorageBufferBindingSize (and maxBufferSize); the FoPE paper's 60m logits (32 x 512 x 50,257 float32) are
 * 3.1 GiB, past every adapter's binding limit. In all: the device's memory (nvidia-smi's total on an NVIDIA GPU,
 * host memory for a software adapter or the cpu backend, the 4 GiB wasm32 heap for wasm).
 *
 * The step's bytes are an estimate from the shapes (float32), stated as such:
 *   parameters: weights, gradients, AdamW's two moments = 4 P (5 P with a micro-batch accumulator)
 *   activations kept for the backward pass, per layer: about b T (10 d + 4 F) for the projections, norms,
 *     residuals and SwiGLU, plus 3 b H T q for attention scores, probabilities and their mask sum (q query rows
 *     per block: the decoder blocks queries so that b H q T stays within SCORE_ELEMENTS_BUDGET)
 *   the loss: 3 b T V (logits, log-probabilities, their gradient) unchunked; 3 c V for a chunk of c positions
 */
import { totalmem } from "node:os"
import { SCORE_ELEMENTS_BUDGET } from "../decoder.js"
import type { EngineInfo } from "./backend.js"
import { nvidiaSmi } from "./nvidia-smi.js"

export interface StepShape {
  readonly vocabSize: number
  readonly dModel: number
  readonly heads: number
  readonly layers: number
  readonly ffnHidden: number
  readonly batchSize: number
  readonly seqLength: number
}

export interface MemoryLimits {
  /** what the limits are, e.g. "webgpu llvmpipe (software)" */
  readonly device: string
  /** the largest single tensor, bytes */
  readonly maxTensorBytes: number
  /** all memory one step may use, bytes; null when unknown (then only the per-tensor limit is planned) */
  readonly totalBytes: number | null
  /** where totalBytes comes from */
  readonly totalSource: string
}

export interface MemoryPlan {
  readonly microBatches: number
  /** positions per loss chunk; undefined: the plain, unchunked loss */
  readonly lossChunk: number | undefined
  readonly largestTensor: { readonly what: string; readonly bytes: number }
  /** estimated bytes of one step (see the header) */
  readonly stepBytes: number
  readonly limits: MemoryLimits
}

export class MemoryPlanError extends Error {
  override readonly name = "MemoryPlanError"
}

const F32 = 4
/** A loss chunk's logits are kept at most this large even when the limits allow more: the saving flattens out. */
const LOSS_CHUNK_TARGET_BYTES = 256 * 2 ** 20

export const formatBytes = (bytes: number): string =>
  bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(2)} GiB`
    : bytes >= 2 ** 20
      ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
      : `${Math.round(bytes / 1024)} KiB`

const parameterCount = (s: StepShape): number =>
  s.layers * (4 * s.dModel * s.dModel + 3 * s.dModel * s.ffnHidden + 2 * s.dModel) + s.dModel + 2 * s.vocabSize * s.dModel

/** The tensors that bound one step with micro-batch b and loss chunk c (undefined: unchunked), and the step's bytes. */
export const stepFootprint = (
  s: StepShape,
  b: number,
  c: number | undefined
): { largest: { what: string; bytes: number }; stepBytes: number } => {
  const { vocabSize: V, dModel: d, heads: H, ffnHidden: F, seqLength: T, layers: L } = s
  const rows = Math.max(1, Math.min(T, Math.floor(SCORE_ELEMENTS_BUDGET / (b * H * T)))) // the decoder's query block
  const lossRows = c ?? b * T
  const tensors: Array<{ what: string; bytes: number }> = [
    { what: `${c === undefined ? "logits" : "a loss chunk's logits"} [${lossRows} x ${V}]`, bytes: lossRows * V * F32 },
    { what: `token embedding / output projection [${V} x ${d}]`, bytes: V * d * F32 },
    { what: `attention scores [${b} x ${H} x ${rows} x ${T}]`, bytes: b * H * rows * T * F32 },
    { what: `feed-forward activations [${b * T} x ${F}]`, bytes: b * T * F * F32 }
  ]
  const largest = tensors.reduce((a, x) => (x.bytes > a.bytes ? x : a))
  const P = parameterCount(s)
  const activations = L * (b * T * (10 * d + 4 * F) + 3 * b * H * rows * T) * F32
  const loss = 3 * lossRows * V * F32
  return { largest, stepBytes: 4 * P * F32 + activations + loss }
}

/**
 * The plain step when it fits (1 micro-batch, no chunking: the same bits as always), else the fewest micro-batches
 * and the largest loss chunk that fit; a MemoryPlanError with needed vs available when nothing does.
 */
export const planStepMemory = (s: StepShape, limits: MemoryLimits): MemoryPlan => {
  const fits = (largest: number, total: number): boolean =>
    largest <= limits.maxTensorBytes && (limits.totalBytes === null || total <= limits.totalBytes)
  const P = parameterCount(s)
  let smallest: { largest: { what: string; bytes: number }; stepBytes: number } | null = null
  for (let micro = 1; micro <= s.batchSize; micro++) {
    if (s.batchSize % micro !== 0) continue
    const b = s.batchSize / micro
    const accumulator = micro > 1 ? P * F32 : 0
    const plain = stepFootprint(s, b, undefined)
    if (fits(plain.largest.bytes, plain.stepBytes + accumulator)) {
      return { microBatches: micro, lossChunk: undefined, largestTensor: plain.largest, stepBytes: plain.stepBytes + accumulator, limits }
    }
    const chunkBytes = Math.min(limits.maxTensorBytes, LOSS_CHUNK_TARGET_BYTES)
    const c = Math.max(1, Math.min(b * s.seqLength, Math.floor(chunkBytes / (s.vocabSize * F32))))
    const chunked = stepFootprint(s, b, c)
    if (fits(chunked.largest.bytes, chunked.stepBytes + accumulator)) {
      return { microBatches: micro, lossChunk: c, largestTensor: chunked.largest, stepBytes: chunked.stepBytes + accumulator, limits }
    }
    smallest = { largest: chunked.largest, stepBytes: chunked.stepBytes + accumulator }
  }
  const worst = smallest!
  const tensorTooBig = worst.largest.bytes > limits.maxTensorBytes
  throw new MemoryPlanError(
    `one training step does not fit on ${limits.device} even with 1 sequence per micro-batch and a chunked loss: ` +
      (tensorTooBig
        ? `its largest tensor, ${worst.largest.what}, needs ${formatBytes(worst.largest.bytes)}; the largest tensor there is ${formatBytes(limits.maxTensorBytes)}. `
        : `it needs about ${formatBytes(worst.stepBytes)}; ${formatBytes(limits.totalBytes ?? 0)} are available (${limits.totalSource}). `) +
      `Fix: a device with more memory, or a smaller model, vocabulary or sequence length.`
  )
}

/** One line for the run's log: `memory plan (webgpu ...): 2 micro-batches of 16, loss over 1305 positions at a time; ...`. */
export const describeMemoryPlan = (plan: MemoryPlan, s: StepShape): string =>
  `memory plan on ${plan.limits.device}: ` +
  (plan.microBatches === 1
    ? `the whole batch of ${s.batchSize}`
    : `${plan.microBatches} micro-batches of ${s.batchSize / plan.microBatches} (gradients summed)`) +
  `, ${plan.lossChunk === undefined ? "the loss over all positions at once" : `the loss over ${plan.lossChunk} positions at a time (logits ${formatBytes(s.batchSize * s.seqLength * s.vocabSize * F32)} never formed)`}` +
  `; largest tensor ${plan.largestTensor.what} ${formatBytes(plan.largestTensor.bytes)} of ${formatBytes(plan.limits.maxTensorBytes)} allowed` +
  `; step about ${formatBytes(plan.stepBytes)}${plan.limits.totalBytes !== null ? ` of ${formatBytes(plan.limits.totalBytes)} (${plan.limits.totalSource})` : " (device total unknown)"}`

/** True when the plan is the plain step (nothing split, nothing chunked). */
export const isPlainPlan = (plan: MemoryPlan): boolean => plan.microBatches === 1 && plan.lossChunk === undefined

/** The wasm32 heap: 2^32 bytes addressable, for all tensors together. */
const WASM_HEAP_BYTES = 2 ** 32

/**
 * The limits a step is planned against on this engine; null where the harness does not plan (cpu, native
 * TensorFlow: the plain step runs, as before).
 */
export const memoryLimits = (engine: Pick<EngineInfo, "backend" | "webgpu">): MemoryLimits | null => {
  if (engine.backend === "wasm") {
    return { device: "wasm (wasm32 heap)", maxTensorBytes: WASM_HEAP_BYTES, totalBytes: WASM_HEAP_BYTES, totalSource: "the wasm32 heap" }
  }
  if (engine.backend === "webgpu" && engine.webgpu !== undefined) {
    const a = engine.webgpu.adapter
    const name = a.device || a.description
    const maxTensorBytes = Math.min(a.maxStorageBufferBindingSize, a.maxBufferSize)
    if (a.software)
      return {
        device: `webgpu ${name} (software)`,
        maxTensorBytes,
        totalBytes: totalmem(),
        totalSource: "host memory, where a software adapter computes"
      }
    const smi = nvidiaSmi()
    const gpu = "gpus" in smi ? smi.gpus[0] : undefined
    return gpu !== undefined
      ? { device: `webgpu ${name}`, maxTensorBytes, totalBytes: gpu.memoryTotalMiB * 2 ** 20, totalSource: `nvidia-smi: ${gpu.name}` }
      : { device: `webgpu ${name}`, maxTensorBytes, totalBytes: null, totalSource: "unknown (WebGPU does not report device memory)" }
  }
  return null
}
