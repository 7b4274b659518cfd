/**
 * Engine benchmark: the reference model (reference-model.ts; 2 layers, d=128, 4 heads, vocab 64,
 * batch 8 x 128 tokens, ~2.9 GFLOP a step) trained and evaluated per backend variant, plus float32 matmul
 * GFLOP/s at 512^3 and 1024^3, peak RSS and the machine's load.
 *
 * Each variant runs in a fresh child process (`node bench-engine.js --child <json>`): kernel overrides, the
 * wasm thread count and the peak RSS are process-global. The parent collects one JSON line per child.
 *
 *   npm run bench:engine                       all variants (~2-3 minutes on 2 cores)
 *   npm run bench:engine -- --quick            fewer steps
 *   npm run bench:engine -- --backends cpu,wasm-tuned-2t --steps 20 --with-torch --json
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { Decoder } from "../decoder.js"
import { resolveScale } from "../scales.js"
import { AdamW } from "../train/adamw.js"
import { Trainer } from "../train/trainer.js"
import { trainSpec } from "../train/spec.js"
import { describeEngine, initEngine, type BackendRequest } from "./backend.js"
import { loadNativeGemm } from "./native-gemm.js"
import { probeWebGpu } from "./webgpu.js"
import { runOneDnnSgemmPeer, runSgemmPeer, runTorchPeer, type Peer, type SgemmResult, type TorchResult } from "./peers.js"
import { REFERENCE_MODEL, ReferenceModel, referenceBatch, trainStepFlops, type ReferenceModelConfig } from "./reference-model.js"

import type { MetricRecord } from "../eval/metrics.js"
export type { MetricRecord }

interface VariantSpec {
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
 * and tfjs's first calls; measured on the 2-thread variant: 271, 115, 134, 112, 145, 113, 143, 104 ms, then ~95).
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
    readonly length: number; readonly queryChunk: number; readonly tokensPerSecond: number; readonly loss: number
    readonly peakRssBeforeMiB: number; readonly peakRssAfterMiB: number
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

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const RESULT_PREFIX = "ENGINE_BENCH_RESULT "

export const loadavg = (): string => {
  try {
    return fs.readFileSync("/proc/loadavg", "utf8").trim()
  } catch {
    return "unavailable"
  }
}

const now = (): number => performance.now() / 1000

/**
 * GFLOP/s of an n^3 float32 matmul (2 n^3 FLOP), each product read back so the work is finished: the fastest of
 * `windows` timing windows of `reps` products, as the sgemm peer measures its ceiling.
 */
const matmulGflops = async (n: number, reps: number, windows = 3): Promise<number> => {
  const rng = SeededRandom.create(n, "engine/bench/matmul")
  const a = tf.tensor2d(rng.fill(n * n, (r) => r.uniformIn(-1, 1)), [n, n])
  const b = tf.tensor2d(rng.fill(n * n, (r) => r.uniformIn(-1, 1)), [n, n])
  // read back asynchronously: a GPU backend in Node has no synchronous read (the same work on the CPU backends)
  const once = async () => {
    const c = tf.matMul(a, b)
    await c.data()
    c.dispose()
  }
  await once() // warm-up (XNNPACK operator creation, heap growth, shader compilation)
  let seconds = Infinity
  for (let w = 0; w < windows; w++) {
    const t0 = now()
    for (let i = 0; i < reps; i++) await once()
    seconds = Math.min(seconds, now() - t0)
  }
  tf.dispose([a, b])
  return (2 * n ** 3 * reps) / seconds / 1e9
}

interface TrainMeasurement {
  readonly secondsPerStep: number
  readonly finalLoss: number
  readonly tensorsConstant: boolean
  readonly evalTokensPerSecond: number
}

const measureTraining = async (config: ReferenceModelConfig, warmup: number, steps: number, evalSteps: number): Promise<TrainMeasurement> => {
  const model = ReferenceModel.create(config, 1)
  const rng = SeededRandom.create(1, "engine/bench/data")
  // The harness's own optimizer (models/train/adamw.ts) with PyTorch Adam's defaults and no decay: what the peer
  // runs (torch.optim.Adam, lr 1e-3). On tuned wasm it runs as one fused kernel per parameter.
  const variables = model.variables
  const optimizer = new AdamW(
    variables.map((variable) => ({ name: variable.name, variable, decay: false })),
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }
  )
  const step = async (): Promise<number> => {
    const tokens = referenceBatch(rng, config)
    const { value, grads } = tf.variableGrads(() => model.loss(tokens), variables)
    optimizer.apply(variables.map((v) => grads[v.name]!), 1e-3, 1)
    const loss = (await value.data())[0]!
    tf.dispose([value, tokens, ...Object.values(grads)])
    return loss
  }
  for (let i = 0; i < warmup; i++) await step()
  const counts: number[] = []
  let loss = NaN
  const t0 = now()
  for (let i = 0; i < steps; i++) {
    loss = await step()
    counts.push(tf.memory().numTensors)
  }
  const secondsPerStep = (now() - t0) / steps
  // Evaluation: forward only (the loss), no tape.
  const forward = async () => {
    const tokens = referenceBatch(rng, config)
    const l = model.loss(tokens)
    await l.data()
    tf.dispose([l, tokens])
  }
  await forward()
  const e0 = now()
  for (let i = 0; i < evalSteps; i++) await forward()
  const evalTokensPerSecond = (config.batch * config.seqLength * evalSteps) / (now() - e0)
  optimizer.dispose()
  model.dispose()
  return { secondsPerStep, finalLoss: loss, tensorsConstant: new Set(counts).size <= 1, evalTokensPerSecond }
}

interface ChildRequest {
  readonly variant: string
  readonly steps: number
  readonly embeddingComparison: boolean
  /** also measure the CPU scales (the main pass; not the paired rounds) */
  readonly scales?: boolean
}

export interface ScaleMeasurement {
  readonly scale: string
  readonly steps: number
  readonly secondsPerStep: number
  readonly trainTokensPerSecond: number
  readonly evalTokensPerSecond: number
}

/** The CPU scales of models/scales.ts, measured with the harness's Decoder and Trainer (what suites run). */
export const BENCH_SCALES = ["nano", "micro", "mini"] as const
const SCALE_BATCH = 8
const SCALE_LENGTH = 128

/**
 * Training and evaluation tokens/s of the harness's decoder (models/decoder.ts, RoPE, byte vocabulary 256) at each
 * CPU scale, trained by its Trainer (AdamW, clipping, schedule) on batch 8 x 128 tokens of seeded bytes (speed does
 * not depend on the data). `steps` timed after 3 warm-up steps; evaluation: forward-only loss on the same shape.
 */
const measureScales = async (steps: number, scales: ReadonlyArray<string>): Promise<ScaleMeasurement[]> => {
  const out: ScaleMeasurement[] = []
  for (const name of scales) {
    const s = resolveScale(name)
    const dims = { dModel: s.dModel, heads: s.heads, headDim: s.dModel / s.heads, layers: s.layers, trainLength: SCALE_LENGTH }
    const model = Decoder.create(
      { vocabSize: 256, dModel: s.dModel, heads: s.heads, layers: s.layers, ffnHidden: s.ffnHidden, trainLength: SCALE_LENGTH },
      createEmbedding({ name: "rope", params: {} }, dims, 1),
      1
    )
    const rng = SeededRandom.create(1, `engine/bench/scale/${name}`)
    const data = Int32Array.from(rng.fill(200_000, (r) => r.int(256)))
    const warmup = 3
    const trainer = Trainer.create(model, data, trainSpec({ steps: warmup + steps, batchSize: SCALE_BATCH, seqLength: SCALE_LENGTH, learningRate: 1e-3, warmupSteps: 1 }), 1)
    for (let i = 0; i < warmup; i++) await trainer.nextAsync()
    const t0 = now()
    for (let i = 0; i < steps; i++) await trainer.nextAsync()
    const secondsPerStep = (now() - t0) / steps
    const batch = tf.tensor2d(data.subarray(0, SCALE_BATCH * (SCALE_LENGTH + 1)), [SCALE_BATCH, SCALE_LENGTH + 1], "int32")
    const forward = async () => {
      const l = model.loss(batch)
      await l.data()
      l.dispose()
    }
    await forward()
    const e0 = now()
    for (let i = 0; i < steps; i++) await forward()
    const evalSeconds = (now() - e0) / steps
    batch.dispose()
    trainer.dispose()
    model.dispose()
    const tokens = SCALE_BATCH * SCALE_LENGTH
    out.push({ scale: name, steps, secondsPerStep, trainTokensPerSecond: tokens / secondsPerStep, evalTokensPerSecond: tokens / evalSeconds })
  }
  return out
}

/** Runs one variant in this process (the child side); returns its result. */
const runVariantHere = async (request: ChildRequest): Promise<VariantResult> => {
  const spec = BENCH_VARIANTS.find((v) => v.name === request.variant)
  if (spec === undefined) throw new Error(`unknown variant ${request.variant}`)
  const loadavgBefore = loadavg()
  const info = await initEngine({ backend: spec.backend, threads: spec.threads, tuned: spec.tuned, native: spec.native ?? false })
  if (spec.native === true && info.native === undefined) throw new Error(`no native products: ${(info.notes ?? []).join("; ")}`)
  const steps = Math.max(1, Math.round(request.steps * spec.stepsFactor))
  const slow = spec.stepsFactor < 1
  const t = await measureTraining(REFERENCE_MODEL, spec.warmup, steps, slow ? steps : Math.max(3, steps))
  const reps = spec.backend === "cpu" ? [1, 1] : slow ? [4, 2] : [10, 3]
  const windows = spec.backend === "cpu" || slow ? 1 : 3 // cpu: one 1024^3 product takes seconds
  const matmulGflops512 = await matmulGflops(512, reps[0], windows)
  const matmulGflops1024 = await matmulGflops(1024, reps[1], windows)
  const peakRssMiB = process.resourceUsage().maxRSS / 1024 // KiB -> MiB; before the extra measurements below
  let embedding: VariantResult["embedding"]
  if (request.embeddingComparison) {
    const n = Math.max(2, Math.round(steps / 2))
    const gather = await measureTraining({ ...REFERENCE_MODEL, vocab: 256, embedding: "gather" }, 1, n, 0)
    const onehot = await measureTraining({ ...REFERENCE_MODEL, vocab: 256, embedding: "onehot" }, 1, n, 0)
    embedding = { vocab: 256, gatherSecondsPerStep: gather.secondsPerStep, onehotSecondsPerStep: onehot.secondsPerStep }
  }
  const rssBeforeLong = process.resourceUsage().maxRSS / 1024 // the long evaluation runs next: its peak is the rise
  const longEval = request.embeddingComparison ? await measureLongEvaluation(REFERENCE_MODEL, 16, 256) : undefined
  const rssAfterLong = process.resourceUsage().maxRSS / 1024
  // CPU scales, last (mini's activations raise the peak RSS): all of them on the fast variants, nano alone (one
  // step) on the slow ones
  const scales = request.scales === true ? await measureScales(slow ? 1 : Math.max(2, Math.round(steps / 2)), slow ? ["nano"] : BENCH_SCALES) : undefined
  const tokens = REFERENCE_MODEL.batch * REFERENCE_MODEL.seqLength
  return {
    variant: spec.name,
    ok: true,
    engine: describeEngine(info),
    threads: info.threads,
    steps,
    secondsPerStep: t.secondsPerStep,
    trainTokensPerSecond: tokens / t.secondsPerStep,
    trainGflops: trainStepFlops(REFERENCE_MODEL) / t.secondsPerStep / 1e9,
    evalTokensPerSecond: t.evalTokensPerSecond,
    matmulGflops512,
    matmulGflops1024,
    peakRssMiB,
    finalLoss: t.finalLoss,
    tensorsConstant: t.tensorsConstant,
    loadavgBefore,
    loadavgAfter: loadavg(),
    ...(embedding !== undefined ? { embedding } : {}),
    ...(scales !== undefined ? { scales } : {}),
    ...(longEval !== undefined ? { longEval: { ...longEval, peakRssBeforeMiB: rssBeforeLong, peakRssAfterMiB: rssAfterLong } } : {})
  }
}

/**
 * Evaluation at `factor` x the training length: one sequence, forward only, attention in query blocks
 * of `queryChunk` rows (reference-model.ts), so memory grows with chunk x length rather than length^2.
 */
const measureLongEvaluation = async (config: ReferenceModelConfig, factor: number, queryChunk: number) => {
  const length = factor * config.seqLength
  const c = { ...config, batch: 1 }
  const model = ReferenceModel.create(c, 1)
  const rng = SeededRandom.create(1, "engine/bench/long-eval")
  const forward = async (): Promise<number> => {
    const tokens = referenceBatch(rng, c, length)
    const l = model.loss(tokens, { queryChunk })
    const v = (await l.data())[0]!
    tf.dispose([l, tokens])
    return v
  }
  await forward()
  const reps = 2
  const t0 = now()
  let loss = NaN
  for (let i = 0; i < reps; i++) loss = await forward()
  const seconds = (now() - t0) / reps
  model.dispose()
  return { length, queryChunk, tokensPerSecond: length / seconds, loss }
}

/** The compiled script to spawn (children must run JavaScript: under vitest this module is TypeScript). */
const compiledScript = (): string => {
  const self = fileURLToPath(import.meta.url)
  if (self.endsWith(".js") || self.endsWith(".mjs")) return self // compiled, or bundled (scripts/bundle-harness.mjs)
  const dist = path.resolve(path.dirname(self), "../../dist/models/engine/bench-engine.js")
  if (!fs.existsSync(dist)) throw new Error(`bench children need the compiled script ${dist}: run \`npm run build\` first.`)
  return dist
}

const runChild = (request: ChildRequest, timeoutMs: number): Promise<VariantResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [compiledScript(), "--child", JSON.stringify(request)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX))
      if (line !== undefined) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as VariantResult)
      const tail = stderr.trim().split("\n").slice(-3).join(" / ")
      resolve({ variant: request.variant, ok: false, error: `child exited ${code ?? "by signal"}: ${tail || "no output"}` })
    })
  })

const nativeLoadable = async (): Promise<boolean> => {
  for (const name of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      const specifier: string = name
      await import.meta.resolve?.(specifier)
      return true
    } catch {
      /* not installed */
    }
  }
  return false
}

const selectVariants = async (backends: ReadonlyArray<string> | undefined): Promise<{ names: string[]; notes: string[] }> => {
  const notes: string[] = []
  const all = BENCH_VARIANTS.map((v) => v.name)
  const groups: Record<string, string[]> = {
    cpu: ["cpu"],
    wasm: ["wasm-stock-1t", "wasm-tuned-1t", "wasm-tuned-2t", "wasm-native-1t", "wasm-native-2t"],
    tensorflow: ["tensorflow"],
    webgpu: ["webgpu", "webgpu-software"]
  }
  let names: string[]
  if (backends === undefined || backends.length === 0) names = all
  else {
    names = []
    for (const b of backends) {
      const hit = groups[b] ?? (all.includes(b) ? [b] : undefined)
      if (hit === undefined) {
        throw new Error(`Unknown bench backend "${b}": use ${[...Object.keys(groups), ...all.filter((n) => !(n in groups))].join(", ")}.`)
      }
      for (const n of hit) if (!names.includes(n)) names.push(n)
    }
  }
  if (names.some((n) => n.startsWith("webgpu"))) {
    // the variant that matches the adapter Dawn finds: "webgpu" on hardware, "webgpu-software" (fewer steps) else
    const adapters = (await probeWebGpu()).adapters
    const hardware = adapters.some((a) => !a.software)
    const keep = adapters.length === 0 ? null : hardware ? "webgpu" : "webgpu-software"
    names = names.filter((n) => !n.startsWith("webgpu") || n === keep)
    if (keep === null) notes.push("webgpu: no adapter (`harness doctor` says why); skipped")
    else if (!hardware) notes.push("webgpu: only a SOFTWARE adapter (Mesa llvmpipe on the CPU): measured for comparison, not a GPU figure")
  }
  const nativeGemm = loadNativeGemm()
  if (names.some((n) => n.startsWith("wasm-native")) && !nativeGemm.ok) {
    names = names.filter((n) => !n.startsWith("wasm-native"))
    notes.push(`wasm-native: ${nativeGemm.reason}; skipped`)
  }
  if (names.includes("tensorflow") && !(await nativeLoadable())) {
    names = names.filter((n) => n !== "tensorflow")
    notes.push("tensorflow: not installed (optional @tensorflow/tfjs-node[-gpu] needs libtensorflow from the internet); skipped")
  }
  return { names, notes }
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined

export const runEngineBenchmark = async (options: EngineBenchOptions = {}): Promise<EngineBenchResult> => {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"))
  const steps = options.steps ?? (options.quick === true ? 3 : 10)
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`)
  const started = now()
  const loadavgBefore = loadavg()
  const { names, notes } = await selectVariants(options.backends)
  // The extra measurements (vocab-256 embedding comparison, 16x-length evaluation) go to the single-thread tuned
  // variant: on a shared 2-core machine two XNNPACK threads lose badly to oversubscription (see backend.ts).
  const embeddingVariant = names.includes("wasm-tuned-1t") ? "wasm-tuned-1t" : names.find((n) => n.startsWith("wasm-tuned"))
  const variants: VariantResult[] = []
  for (const variant of names) {
    log(`[bench:engine] ${variant} (load ${loadavg()}) ...`)
    const r = await runChild({ variant, steps, embeddingComparison: variant === embeddingVariant, scales: true }, 600_000)
    log(r.ok ? `[bench:engine] ${variant}: ${r.secondsPerStep?.toFixed(3)} s/step, ${r.trainTokensPerSecond?.toFixed(0)} tokens/s` : `[bench:engine] ${variant} failed: ${r.error}`)
    variants.push(r)
  }
  const threads = Math.max(...variants.map((v) => v.threads ?? 1), 1)
  let torch: Peer<TorchResult> | null = null
  if (options.withTorch === true) {
    log("[bench:engine] PyTorch peer ...")
    torch = runTorchPeer(REFERENCE_MODEL, steps, threads, WARMUP_STEPS)
    if (!torch.ok) notes.push(`torch: ${torch.note}`)
  }
  const by = (name: string) => variants.find((v) => v.variant === name && v.ok)
  let paired: EngineBenchResult["paired"]
  const contenders = variants.filter((v) => v.ok && (v.variant.startsWith("wasm-tuned") || v.variant.startsWith("wasm-native") || v.variant === "tensorflow"))
  if (torch?.ok === true && contenders.length > 0) {
    const roundsWanted = options.rounds ?? 3
    if (!Number.isInteger(roundsWanted) || roundsWanted < 1) throw new Error(`rounds must be a positive integer, got ${roundsWanted}`)
    const pair = (measured: ReadonlyArray<VariantResult>, p: TorchResult): PairedRound => {
      const bestOf = (key: "trainTokensPerSecond" | "evalTokensPerSecond") =>
        measured.reduce((best, v) => ((v[key] ?? 0) > (best[key] ?? 0) ? v : best))
      const train = bestOf("trainTokensPerSecond")
      const ev = bestOf("evalTokensPerSecond")
      return {
        trainVariant: train.variant, evalVariant: ev.variant,
        tfjsTrainTokensPerSecond: train.trainTokensPerSecond!, tfjsEvalTokensPerSecond: ev.evalTokensPerSecond!,
        torchTrainTokensPerSecond: p.trainTokensPerSecond, torchEvalTokensPerSecond: p.evalTokensPerSecond,
        train: train.trainTokensPerSecond! / p.trainTokensPerSecond, eval: ev.evalTokensPerSecond! / p.evalTokensPerSecond
      }
    }
    const rounds = [pair(contenders, torch.value)]
    for (let r = 2; r <= roundsWanted; r++) {
      log(`[bench:engine] paired round ${r}/${roundsWanted}: ${contenders.map((v) => v.variant).join(", ")}, PyTorch (load ${loadavg()}) ...`)
      const measured: VariantResult[] = []
      for (const v of contenders) {
        const t = await runChild({ variant: v.variant, steps, embeddingComparison: false }, 600_000)
        if (t.ok) measured.push(t)
        else notes.push(`paired round ${r}: ${v.variant} failed: ${t.error}`)
      }
      const p = runTorchPeer(REFERENCE_MODEL, steps, threads, WARMUP_STEPS)
      if (measured.length === 0 || !p.ok) {
        if (!p.ok) notes.push(`paired round ${r}: PyTorch failed: ${p.note}`)
        continue
      }
      const round = pair(measured, p.value)
      log(`[bench:engine] paired round ${r}: tfjs/PyTorch train ${round.train.toFixed(2)}, eval ${round.eval.toFixed(2)}`)
      rounds.push(round)
    }
    paired = { variants: contenders.map((v) => v.variant), rounds }
  }
  const sgemm = runSgemmPeer(threads)
  if (!sgemm.ok) notes.push(`sgemm: ${sgemm.note}`)
  const nativeBest = variants.filter((v) => v.ok && v.variant.startsWith("wasm-native")).reduce<VariantResult | undefined>((b, v) => ((v.matmulGflops1024 ?? 0) > (b?.matmulGflops1024 ?? 0) ? v : b), undefined)
  const sgemmNative = nativeBest !== undefined ? runOneDnnSgemmPeer(threads) : undefined
  if (sgemmNative !== undefined && !sgemmNative.ok) notes.push(`sgemm: ${sgemmNative.note}`)

  const bestMatmul = Math.max(...variants.map((v) => v.matmulGflops1024 ?? 0))
  const tunedVariants = [by("wasm-tuned-1t"), by("wasm-tuned-2t")].filter((v): v is VariantResult => v !== undefined)
  const tuned = tunedVariants.reduce<VariantResult | undefined>((best, v) => (best === undefined || (v.trainTokensPerSecond ?? 0) > (best.trainTokensPerSecond ?? 0) ? v : best), undefined)
  const withExtras = variants.find((v) => v.ok && v.embedding !== undefined)
  const candidates: Record<string, number | undefined> = {
    "tuned_1t_vs_stock_1t.train": ratio(by("wasm-tuned-1t")?.trainTokensPerSecond, by("wasm-stock-1t")?.trainTokensPerSecond),
    "tuned_1t_vs_stock_1t.eval": ratio(by("wasm-tuned-1t")?.evalTokensPerSecond, by("wasm-stock-1t")?.evalTokensPerSecond),
    "tuned_2t_vs_tuned_1t.train": ratio(by("wasm-tuned-2t")?.trainTokensPerSecond, by("wasm-tuned-1t")?.trainTokensPerSecond),
    "tuned_vs_cpu.train": ratio(tuned?.trainTokensPerSecond, by("cpu")?.trainTokensPerSecond),
    "tuned_1t_vs_stock_1t.matmul1024": ratio(by("wasm-tuned-1t")?.matmulGflops1024, by("wasm-stock-1t")?.matmulGflops1024),
    "native_1t_vs_tuned_1t.train": ratio(by("wasm-native-1t")?.trainTokensPerSecond, by("wasm-tuned-1t")?.trainTokensPerSecond),
    "native_1t_vs_tuned_1t.eval": ratio(by("wasm-native-1t")?.evalTokensPerSecond, by("wasm-tuned-1t")?.evalTokensPerSecond),
    "native_1t_vs_tuned_1t.matmul1024": ratio(by("wasm-native-1t")?.matmulGflops1024, by("wasm-tuned-1t")?.matmulGflops1024),
    "tfjs_vs_torch.train": paired !== undefined ? median(paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_vs_torch.eval": paired !== undefined ? median(paired.rounds.map((r) => r.eval)) : undefined,
    "tfjs_vs_torch.train.min": paired !== undefined && paired.rounds.length > 1 ? Math.min(...paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_vs_torch.train.max": paired !== undefined && paired.rounds.length > 1 ? Math.max(...paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_matmul_vs_sgemm.1024": sgemm.ok ? ratio(bestMatmul, sgemm.value.gflops1024) : undefined,
    "native_matmul_vs_onednn_sgemm.1024": sgemmNative?.ok === true ? ratio(nativeBest?.matmulGflops1024, sgemmNative.value.gflops1024) : undefined,
    "gather_vs_onehot.step_time": ratio(withExtras?.embedding?.gatherSecondsPerStep, withExtras?.embedding?.onehotSecondsPerStep),
    // WebGPU (hardware, else the software adapter) against the tuned wasm engine of the same run
    "webgpu_vs_wasm_tuned_1t.train": ratio((by("webgpu") ?? by("webgpu-software"))?.trainTokensPerSecond, by("wasm-tuned-1t")?.trainTokensPerSecond),
    "webgpu_vs_wasm_tuned_1t.eval": ratio((by("webgpu") ?? by("webgpu-software"))?.evalTokensPerSecond, by("wasm-tuned-1t")?.evalTokensPerSecond)
  }
  const ratios = Object.fromEntries(Object.entries(candidates).filter((e): e is [string, number] => e[1] !== undefined))

  const L = REFERENCE_MODEL.seqLength
  const metrics: MetricRecord[] = []
  for (const v of variants) {
    if (!v.ok) continue
    const p = `engine.${v.variant}`
    const push = (name: string, value: number | undefined, unit: string, better: MetricRecord["better"], length: number | null = null) => {
      if (value !== undefined && Number.isFinite(value)) metrics.push({ name: `${p}.${name}`, value, unit, better, length, step: null })
    }
    push("seconds_per_step", v.secondsPerStep, "s", "lower", L)
    push("train_tokens_per_s", v.trainTokensPerSecond, "tokens/s", "higher", L)
    push("eval_tokens_per_s", v.evalTokensPerSecond, "tokens/s", "higher", L)
    push("matmul_512_gflops", v.matmulGflops512, "GFLOP/s", "higher")
    push("matmul_1024_gflops", v.matmulGflops1024, "GFLOP/s", "higher")
    push("peak_rss", v.peakRssMiB, "MiB", "lower")
    if (v.longEval !== undefined) {
      push("eval16x_tokens_per_s", v.longEval.tokensPerSecond, "tokens/s", "higher", v.longEval.length)
      push("eval16x_peak_rss", v.longEval.peakRssAfterMiB, "MiB", "lower", v.longEval.length)
    }
    for (const sc of v.scales ?? []) {
      push(`scale_${sc.scale}.train_tokens_per_s`, sc.trainTokensPerSecond, "tokens/s", "higher", SCALE_LENGTH)
      push(`scale_${sc.scale}.eval_tokens_per_s`, sc.evalTokensPerSecond, "tokens/s", "higher", SCALE_LENGTH)
    }
    if (v.embedding !== undefined) {
      push("vocab256_gather_seconds_per_step", v.embedding.gatherSecondsPerStep, "s", "lower", L)
      push("vocab256_onehot_seconds_per_step", v.embedding.onehotSecondsPerStep, "s", "lower", L)
    }
  }
  if (torch?.ok === true) {
    metrics.push({ name: "engine.torch.train_tokens_per_s", value: torch.value.trainTokensPerSecond, unit: "tokens/s", better: "none", length: L, step: null })
    metrics.push({ name: "engine.torch.eval_tokens_per_s", value: torch.value.evalTokensPerSecond, unit: "tokens/s", better: "none", length: L, step: null })
  }
  if (sgemm.ok) metrics.push({ name: "engine.sgemm.matmul_1024_gflops", value: sgemm.value.gflops1024, unit: "GFLOP/s", better: "none", length: null, step: null })
  if (sgemmNative?.ok === true) metrics.push({ name: "engine.sgemm_onednn.matmul_1024_gflops", value: sgemmNative.value.gflops1024, unit: "GFLOP/s", better: "none", length: null, step: null })
  for (const [name, value] of Object.entries(ratios)) metrics.push({ name: `engine.ratio.${name}`, value, unit: "ratio", better: name.startsWith("gather_vs") ? "lower" : "higher", length: null, step: null })
  const loadavgAfter = loadavg()
  const load1 = (s: string) => Number(s.split(" ")[0])
  metrics.push({ name: "engine.loadavg_1m.before", value: load1(loadavgBefore), unit: "load", better: "none", length: null, step: null })
  metrics.push({ name: "engine.loadavg_1m.after", value: load1(loadavgAfter), unit: "load", better: "none", length: null, step: null })
  return {
    model: REFERENCE_MODEL, variants, torch, sgemm, ...(sgemmNative !== undefined ? { sgemmNative } : {}), ratios, metrics, loadavgBefore, loadavgAfter,
    wallSeconds: now() - started, notes, ...(paired !== undefined ? { paired } : {})
  }
}

const fmt = (x: number | undefined, digits = 0): string => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits))

/** A markdown table of the run (what the script prints). */
export const formatEngineBenchTable = (r: EngineBenchResult): string => {
  const m = r.model
  const lines = [
    `Reference model: ${m.layers} layers, d=${m.dModel}, ${m.heads} heads, ffn ${m.ffnHidden}, vocab ${m.vocab}, batch ${m.batch} x ${m.seqLength} tokens, ` +
      `${(trainStepFlops(m) / 1e9).toFixed(2)} GFLOP per training step`,
    "",
    "| variant | threads | s/step | train tok/s | train GFLOP/s | eval tok/s | matmul 512^3 GFLOP/s | matmul 1024^3 GFLOP/s | peak RSS MiB | steps | loadavg before -> after |",
    "|---|---|---|---|---|---|---|---|---|---|---|"
  ]
  for (const v of r.variants) {
    if (!v.ok) {
      lines.push(`| ${v.variant} | failed: ${v.error} |`)
      continue
    }
    lines.push(
      `| ${v.variant} | ${v.threads} | ${fmt(v.secondsPerStep, 3)} | ${fmt(v.trainTokensPerSecond)} | ${fmt(v.trainGflops, 1)} | ${fmt(v.evalTokensPerSecond)} | ` +
        `${fmt(v.matmulGflops512, 1)} | ${fmt(v.matmulGflops1024, 1)} | ${fmt(v.peakRssMiB)} | ${v.steps} | ${v.loadavgBefore?.split(" ").slice(0, 3).join(" ")} -> ${v.loadavgAfter?.split(" ").slice(0, 3).join(" ")} |`
    )
  }
  if (r.torch?.ok === true) {
    const t = r.torch.value
    lines.push(`| pytorch ${t.torchVersion} (best of 2 thread splits${t.blasCore !== undefined ? `, OPENBLAS_CORETYPE=${t.blasCore}` : ""}) | ${t.threads} torch + ${t.blasThreads} openblas | ${fmt(t.secondsPerStep, 3)} | ${fmt(t.trainTokensPerSecond)} | ${fmt(trainStepFlops(m) / t.secondsPerStep / 1e9, 1)} | ${fmt(t.evalTokensPerSecond)} | - | - | - | - | - |`)
  }
  if (r.sgemm.ok) {
    const s = r.sgemm.value
    lines.push(`| openblas sgemm${s.library.includes("OPENBLAS_CORETYPE") ? ` (${s.library.replace(/^.*\((.*)\)$/, "$1")})` : ""} | ${s.threads} | - | - | - | - | ${fmt(s.gflops512, 1)} | ${fmt(s.gflops1024, 1)} | - | - | - |`)
  }
  if (r.sgemmNative?.ok === true) {
    const s = r.sgemmNative.value
    lines.push(`| onednn sgemm | ${s.threads} | - | - | - | - | ${fmt(s.gflops512, 1)} | ${fmt(s.gflops1024, 1)} | - | - | - |`)
  }
  const withScales = r.variants.filter((v) => v.ok && v.scales !== undefined && v.scales.length > 0)
  if (withScales.length > 0) {
    lines.push("", `The harness's decoder (RoPE, byte vocabulary) at the CPU scales, batch ${SCALE_BATCH} x ${SCALE_LENGTH}: train / eval tokens/s`, "")
    lines.push(`| variant | ${BENCH_SCALES.join(" | ")} |`, `|---|${BENCH_SCALES.map(() => "---").join("|")}|`)
    for (const v of withScales) {
      const cell = (name: string) => {
        const sc = v.scales?.find((x) => x.scale === name)
        return sc === undefined ? "-" : `${fmt(sc.trainTokensPerSecond)} / ${fmt(sc.evalTokensPerSecond)}`
      }
      lines.push(`| ${v.variant} | ${BENCH_SCALES.map(cell).join(" | ")} |`)
    }
  }
  const emb = r.variants.find((v) => v.embedding !== undefined)
  if (emb?.embedding !== undefined) {
    const e = emb.embedding
    lines.push("", `Embedding at vocab ${e.vocab}, d ${m.dModel} (${emb.variant}): gather ${fmt(e.gatherSecondsPerStep, 3)} s/step, one-hot matmul ${fmt(e.onehotSecondsPerStep, 3)} s/step.`)
  }
  const long = r.variants.find((v) => v.longEval !== undefined)
  if (long?.longEval !== undefined) {
    const e = long.longEval
    lines.push(`Evaluation at 16x the training length (${e.length} tokens, batch 1, attention in query blocks of ${e.queryChunk}; ${long.variant}): ` +
      `${fmt(e.tokensPerSecond)} tokens/s, peak RSS ${fmt(e.peakRssBeforeMiB)} -> ${fmt(e.peakRssAfterMiB)} MiB.`)
  }
  if (r.paired !== undefined) {
    lines.push("", `Paired rounds: ${r.paired.variants.join(", ")} and PyTorch back to back; tfjs's best of each round against PyTorch (the tfjs/PyTorch ratios below are their medians):`)
    r.paired.rounds.forEach((p, i) =>
      lines.push(`- round ${i + 1}: train ${fmt(p.tfjsTrainTokensPerSecond)} (${p.trainVariant}) vs ${fmt(p.torchTrainTokensPerSecond)} tokens/s = ${p.train.toFixed(2)}; ` +
        `eval ${fmt(p.tfjsEvalTokensPerSecond)} (${p.evalVariant}) vs ${fmt(p.torchEvalTokensPerSecond)} = ${p.eval.toFixed(2)}`)
    )
  }
  lines.push("", "Ratios (same run): " + (Object.entries(r.ratios).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ") || "none"))
  lines.push(`Machine load: before ${r.loadavgBefore} | after ${r.loadavgAfter} | wall ${r.wallSeconds.toFixed(0)} s`)
  for (const v of r.variants) if (v.ok) lines.push(`- ${v.variant}: ${v.engine}${v.tensorsConstant === false ? " | WARNING: tensor count grew across steps" : ""}`)
  for (const n of r.notes) lines.push(`- note: ${n}`)
  return lines.join("\n")
}

const parseArgs = (argv: ReadonlyArray<string>): EngineBenchOptions & { json: boolean } => {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const known = new Set(["--quick", "--with-torch", "--json", "--steps", "--backends", "--rounds"])
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) continue
    if (!known.has(argv[i])) throw new Error(`Unknown option ${argv[i]}: use --quick, --steps N, --backends a,b, --with-torch, --rounds N, --json.`)
  }
  const steps = value("--steps")
  const backends = value("--backends")
  const rounds = value("--rounds")
  return {
    quick: argv.includes("--quick"),
    withTorch: argv.includes("--with-torch"),
    json: argv.includes("--json"),
    ...(steps !== undefined ? { steps: Number(steps) } : {}),
    ...(rounds !== undefined ? { rounds: Number(rounds) } : {}),
    ...(backends !== undefined ? { backends: backends.split(",").map((s) => s.trim()).filter((s) => s.length > 0) } : {})
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const argv = process.argv.slice(2)
  if (argv[0] === "--child") {
    const request = JSON.parse(argv[1]) as ChildRequest
    runVariantHere(request).then(
      (r) => {
        process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + "\n")
        process.exit(0) // wasm pthread workers would otherwise keep the process alive
      },
      (e: unknown) => {
        const error = e instanceof Error ? e.message : String(e)
        process.stdout.write(RESULT_PREFIX + JSON.stringify({ variant: request.variant, ok: false, error }) + "\n")
        process.exit(1)
      }
    )
  } else {
    const { json, ...options } = parseArgs(argv)
    runEngineBenchmark(options).then(
      (r) => {
        process.stdout.write((json ? JSON.stringify(r, null, 2) : formatEngineBenchTable(r)) + "\n")
      },
      (e: unknown) => {
        process.stderr.write(`bench:engine failed: ${e instanceof Error ? e.message : String(e)}\n`)
        process.exit(1)
      }
    )
  }
}
