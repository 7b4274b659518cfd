/**
 * Named model scales. CPU scales train in minutes on 2 cores; the FoPE paper's scales (OLMo-style, arXiv
 * 2412.17739, section 5: 60M / 180M / 1.2B) are kept as named configurations for a GPU and refused on a CPU
 * backend unless forced.
 *
 * Parameter count of the decoder (models/decoder.ts), without the vocabulary embeddings:
 *   per block: 4 d^2 (q, k, v, o; no biases) + 3 d F (SwiGLU gate, up, down) + 2 d (two RMSNorm gains)
 *   plus the final RMSNorm gain d.
 * The vocabulary embeddings add 2 V d (untied token embedding [V, d] and output projection [d, V]).
 * A position embedding may add its own trainable parameters (learned absolute, FIRE, KERPLE, T5, learnable FoPE);
 * they are not part of a scale's count.
 */

export interface ScaleConfig {
  readonly name: string
  readonly dModel: number
  readonly heads: number
  readonly layers: number
  readonly ffnHidden: number
  /** true for the paper's scales: refused on a CPU backend unless forced */
  readonly gpuOnly: boolean
  readonly description: string
}

const scale = (name: string, dModel: number, heads: number, layers: number, gpuOnly: boolean, description: string): ScaleConfig => ({
  name,
  dModel,
  heads,
  layers,
  ffnHidden: 4 * dModel, // SwiGLU inner width 4 x dModel (OLMo: mlp_ratio 8, halved by the GLU split)
  gpuOnly,
  description
})

export const SCALES: Readonly<Record<string, ScaleConfig>> = {
  nano: scale("nano", 64, 4, 3, false, "CPU smoke scale: d 64, 4 heads (hd 16), 3 layers, ~0.20M parameters without embeddings"),
  ref: scale(
    "ref",
    128,
    4,
    2,
    false,
    "the engine's reference model: d 128, 4 heads (hd 32), 2 layers, ~0.52M parameters without embeddings"
  ),
  micro: scale("micro", 128, 4, 4, false, "CPU scale: d 128, 4 heads (hd 32), 4 layers, ~1.05M parameters without embeddings"),
  mini: scale("mini", 256, 8, 5, false, "CPU scale: d 256, 8 heads (hd 32), 5 layers, ~5.2M parameters without embeddings"),
  "60m": scale("60m", 512, 8, 8, true, "FoPE paper's 60M: d 512, 8 heads (hd 64), 8 layers, 33.6M without embeddings; GPU only"),
  "180m": scale("180m", 1024, 8, 8, true, "FoPE paper's 180M: d 1024, 8 heads (hd 128), 8 layers, 134M without embeddings; GPU only"),
  "1.2b": scale("1.2b", 2048, 16, 16, true, "FoPE paper's 1.2B: d 2048, 16 heads (hd 128), 16 layers, 1.07B without embeddings; GPU only")
}

/** The scale of that name; an unknown name fails with the list of valid ones. */
export const resolveScale = (name: string): ScaleConfig => {
  const found = Object.hasOwn(SCALES, name) ? SCALES[name] : undefined
  if (!found) throw new Error(`unknown scale "${name}". Valid scales: ${Object.keys(SCALES).join(", ")}`)
  return found
}

export interface ScaleParameterCount {
  /** blocks + final norm */
  readonly nonEmbedding: number
  /** token embedding + output projection: 2 V d */
  readonly embeddings: number
  readonly total: number
}

/** Parameters of the decoder at this scale, by formula (see the header comment). */
export const scaleParameterCount = (s: Pick<ScaleConfig, "dModel" | "layers" | "ffnHidden">, vocabSize: number): ScaleParameterCount => {
  const d = s.dModel
  const perBlock = 4 * d * d + 3 * d * s.ffnHidden + 2 * d
  const nonEmbedding = s.layers * perBlock + d
  const embeddings = 2 * vocabSize * d
  return { nonEmbedding, embeddings, total: nonEmbedding + embeddings }
}

/** What assertScaleRunnable needs to know about the engine (a subset of models/engine's EngineInfo). */
export interface EngineFacts {
  readonly backend: string
  readonly gpu: boolean
  readonly threads?: number
  /** webgpu: the adapter, when it is a software one (a CPU rasteriser) */
  readonly webgpu?: { readonly adapter: { readonly software: boolean; readonly device: string; readonly description: string } }
}

/**
 * Rough sustained training throughput per backend, GFLOP/s, from `harness bench engine` runs
 * (docs/engine-measurements.md). Only used to tell a user how long a step would take; never to decide anything.
 */
const ESTIMATED_GFLOPS: Readonly<Record<string, number>> = { cpu: 0.3, wasm: 10, tensorflow: 30 }

/** Training FLOPs of one step: 6 N per token (forward + backward) plus attention 12 L T d per token (Kaplan et al. 2020). */
export const trainingFlopsPerStep = (s: ScaleConfig, vocabSize: number, batchSize: number, seqLength: number): number => {
  const n = scaleParameterCount(s, vocabSize).total
  const tokens = batchSize * seqLength
  return tokens * (6 * n + 12 * s.layers * seqLength * s.dModel)
}

/** The nominal step used in the refusal message when the caller does not give one. */
const NOMINAL_STEP = { vocabSize: 256, batchSize: 8, seqLength: 512 }

/**
 * Stops a GPU-only scale on a backend without a GPU, before any weights are built, with a message that says
 * why and how to go on. `force` lets it through (the caller may still wait a long time).
 */
export const assertScaleRunnable = (
  s: ScaleConfig,
  engine: EngineFacts,
  force: boolean,
  step: { vocabSize: number; batchSize: number; seqLength: number; steps?: number } = NOMINAL_STEP
): void => {
  if (!s.gpuOnly || engine.gpu || force) return
  const params = scaleParameterCount(s, step.vocabSize).total
  const head = `scale "${s.name}" (${(params / 1e6).toFixed(1)}M parameters) needs a GPU backend (webgpu on a hardware adapter, or tensorflow-gpu); `
  const software = engine.webgpu?.adapter.software === true ? engine.webgpu.adapter : undefined
  if (software !== undefined) {
    // no time estimate: a software adapter's speed was not measured at this scale
    throw new ScaleNeedsGpuError(
      head +
        `this run uses webgpu on a SOFTWARE adapter (${software.device || software.description}), a CPU rasteriser far slower than the CPU engines. ` +
        `Run it on a machine with a GPU (Vulkan driver; \`harness doctor\` lists the adapters) or pass --force-scale to start anyway.`
    )
  }
  const gflops = ESTIMATED_GFLOPS[engine.backend] ?? ESTIMATED_GFLOPS.cpu!
  const minutes = trainingFlopsPerStep(s, step.vocabSize, step.batchSize, step.seqLength) / (gflops * 1e9) / 60
  const whole = step.steps !== undefined ? ` (${step.steps} steps: about ${((minutes * step.steps) / 60).toFixed(1)} hours)` : ""
  const where =
    engine.threads !== undefined ? `${engine.backend} on ${engine.threads} CPU thread${engine.threads === 1 ? "" : "s"}` : engine.backend
  throw new ScaleNeedsGpuError(
    head +
      `this run uses ${where}, where one step (batch ${step.batchSize} x ${step.seqLength} tokens) would take about ` +
      `${minutes < 10 ? minutes.toFixed(1) : Math.round(minutes)} minutes${whole}. ` +
      `Run it where WebGPU finds a GPU (\`harness doctor\`), or install @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1), or pass --force-scale to start anyway.`
  )
}

export class ScaleNeedsGpuError extends Error {
  override readonly name = "ScaleNeedsGpuError"
}
