/**
 * The engine benchmark's variants (one backend configuration each, measured in its own child process) and the
 * shapes of what it measures: per variant, per run, and what the parent asks a child.
 */
import type { BackendRequest } from "../../../models/engine/backend.js"
import type { ReferenceModelConfig } from "../../../models/engine/reference-model.js"
import type { MetricRecord } from "../../../models/eval/metrics.js"
import type { Peer, SgemmResult, TorchResult } from "./peers.js"

export interface VariantSpec {
  readonly name: string
  readonly backend: BackendRequest
  readonly threads: number
  readonly tuned: boolean
  /** tuned wasm: matrix products on the native library (native-gemm.ts) instead of the WebAssembly GEMM */
  readonly native?: boolean
  /** measured training steps = max(1, round(steps * factor)): the slow backends get fewer. */
  readonly stepsFactor: number
  readonly warmup: number
}

/**
 * Untimed steps before the timed ones, for the fast variants and for the PyTorch peer alike: JIT warm-up (V8's
 * and tfjs's first calls run slower than a steady step for several steps: docs/engine-measurements.md).
 */
export const WARMUP_STEPS = 8

export const BENCH_VARIANTS: ReadonlyArray<VariantSpec> = [
  { name: "cpu", backend: "cpu", threads: 1, tuned: false, stepsFactor: 0.2, warmup: 1 },
  { name: "wasm-stock-1t", backend: "wasm", threads: 1, tuned: false, stepsFactor: 0.4, warmup: 1 },
  { name: "wasm-tuned-1t", backend: "wasm", threads: 1, tuned: true, native: false, stepsFactor: 1, warmup: WARMUP_STEPS },
  { name: "wasm-tuned-2t", backend: "wasm", threads: 2, tuned: true, native: false, stepsFactor: 1, warmup: WARMUP_STEPS },
  // the tuned engine with its matrix products on oneDNN (native/), where the addon is built
  { name: "wasm-native-1t", backend: "wasm", threads: 1, tuned: true, native: true, stepsFactor: 1, warmup: WARMUP_STEPS },
  { name: "wasm-native-2t", backend: "wasm", threads: 2, tuned: true, native: true, stepsFactor: 1, warmup: WARMUP_STEPS },
  { name: "tensorflow", backend: "tensorflow", threads: 1, tuned: false, stepsFactor: 1, warmup: WARMUP_STEPS },
  // WebGPU: one of the two, by the adapter Dawn finds (selectVariants); a software adapter is slow, so fewer steps
  { name: "webgpu", backend: "webgpu", threads: 1, tuned: false, stepsFactor: 1, warmup: WARMUP_STEPS },
  { name: "webgpu-software", backend: "webgpu", threads: 1, tuned: false, stepsFactor: 0.3, warmup: 2 }
]

/** The CPU scales of models/scales.ts, measured with the harness's Decoder and Trainer (what suites run). */
export const BENCH_SCALES = ["nano", "micro", "mini"] as const
export const SCALE_BATCH = 8
export const SCALE_LENGTH = 128

export interface VariantResult {
  readonly variant: string
  readonly ok: boolean
  readonly error?: string
  readonly engine?: string
  readonly threads?: number
  readonly steps?: number
  readonly secondsPerStep?: number
  readonly trainTokensPerSecond?: number
  readonly trainGflops?: number
  readonly evalTokensPerSecond?: number
  readonly matmulGflops512?: number
  readonly matmulGflops1024?: number
  readonly peakRssMiB?: number
  readonly finalLoss?: number
  readonly tensorsConstant?: boolean
  readonly loadavgBefore?: string
  readonly loadavgAfter?: string
  /** Seconds per training step at vocab 256 with a gathered vs a one-hot-matmul embedding (one variant only). */
  readonly embedding?: { readonly vocab: number; readonly gatherSecondsPerStep: number; readonly onehotSecondsPerStep: number }
  /** The harness's own decoder (RoPE) at the CPU scales: training and evaluation tokens/s (see measureScales). */
  readonly scales?: ReadonlyArray<ScaleMeasurement>
  /** Forward-only evaluation of one sequence at 16x the training length, chunked attention (one variant only). */
  readonly longEval?: {
    readonly length: number
    readonly queryChunk: number
    readonly tokensPerSecond: number
    readonly loss: number
    readonly peakRssBeforeMiB: number
    readonly peakRssAfterMiB: number
  }
}

export interface EngineBenchResult {
  readonly model: ReferenceModelConfig
  readonly variants: ReadonlyArray<VariantResult>
  readonly torch: Peer<TorchResult> | null
  readonly sgemm: Peer<SgemmResult>
  /** oneDNN's sgemm, the native product path's own ceiling (only when a wasm-native variant ran) */
  readonly sgemmNative?: Peer<SgemmResult>
  readonly ratios: Readonly<Record<string, number>>
  readonly metrics: ReadonlyArray<MetricRecord>
  readonly loadavgBefore: string
  readonly loadavgAfter: string
  readonly wallSeconds: number
  readonly notes: ReadonlyArray<string>
  /** the paired tfjs/PyTorch rounds (with --with-torch), the variant they ran */
  readonly paired?: { readonly variants: ReadonlyArray<string>; readonly rounds: ReadonlyArray<PairedRound> }
}

export interface EngineBenchOptions {
  /** variant names (see BENCH_VARIANTS) or groups "cpu", "wasm", "tensorflow"; default all (tensorflow when it loads). */
  readonly backends?: ReadonlyArray<string>
  /** measured training steps of the fast variants (default 10, quick 3). */
  readonly steps?: number
  readonly quick?: boolean
  /** also train the reference model with PyTorch (python3 + torch must already be installed). */
  readonly withTorch?: boolean
  /**
   * With the peer: how many paired rounds, the first being the main pass (default 3). A round measures each tuned
   * tfjs variant (1 and 2 threads; tensorflow when present) and PyTorch back to back, and compares tfjs's best of
   * them with PyTorch. The headline tfjs/PyTorch ratios are the medians of the per-round ratios: this machine's
   * speed drifts by up to 2x within minutes, and measurements seconds apart share the drift.
   */
  readonly rounds?: number
  /** progress lines (default: to stderr). */
  readonly log?: (line: string) => void
}

/** One paired round: the tfjs variants and PyTorch measured back to back; tfjs's best of the round. */
export interface PairedRound {
  /** the variants whose training (and evaluation) throughput were the best of the round */
  readonly trainVariant: string
  readonly evalVariant: string
  readonly tfjsTrainTokensPerSecond: number
  readonly tfjsEvalTokensPerSecond: number
  readonly torchTrainTokensPerSecond: number
  readonly torchEvalTokensPerSecond: number
  readonly train: number // tfjs / torch
  readonly eval: number
}

export interface ScaleMeasurement {
  readonly scale: string
  readonly steps: number
  readonly secondsPerStep: number
  readonly trainTokensPerSecond: number
  readonly evalTokensPerSecond: number
}

/** What the parent asks one child process to measure (child.ts). */
export interface ChildRequest {
  readonly variant: string
  readonly steps: number
  readonly embeddingComparison: boolean
  /** also measure the CPU scales (the main pass; not the paired rounds) */
  readonly scales?: boolean
}
