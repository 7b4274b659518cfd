/**
 * A training checkpoint is a directory:
 *   model.safetensors      weights (decoder + position embedding's trainable) and the embedding's fixed tensors
 *   optimizer.safetensors  AdamW moments (exp_avg.<name>, exp_avg_sq.<name>); the update count in __metadata__.step
 *   state.json             step, seed, training spec, sampler state (every generator's state, the data cursor),
 *                          data fingerprint, resolved model configuration + embedding spec, loss history
 *   config.json            the resolved model configuration, for other tools (PyTorch, Hugging Face)
 *   manifest.json          sha256 of each file above; written last, verified on load
 *   timing.json            wall-clock seconds of training so far, over every session (interrupt + resume)
 * The checkpoint's hash is the sha256 of manifest.json. Nothing it covers depends on wall-clock time, so two identical
 * runs write byte-identical checkpoints: timing.json, the one wall-clock fact, is saved beside them, outside the
 * manifest, so that a resumed or restored job can record its whole training time.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fopeParamsOf, fopePlan } from "../../embeddings/fope.js"
import type { DecoderConfig } from "../decoder.js"
import { INIT_STD, RMS_NORM_EPS, type Decoder } from "../decoder.js"
import type { SamplerState } from "../train/batch-sampler.js"
import type { TrainSpec } from "../train/spec.js"
import { CheckpointError, readVerifiedFiles, writeCheckpointFiles } from "./manifest.js"
import { modelTensors, restoreModelTensors } from "./model-tensors.js"
import { decodeSafetensors, encodeSafetensors, type NamedArray } from "./safetensors.js"

export const MODEL_FILE = "model.safetensors"
export const OPTIMIZER_FILE = "optimizer.safetensors"
export const STATE_FILE = "state.json"
export const CONFIG_FILE = "config.json"
export const STATE_FORMAT = "fope-harness/training-state@1"
export const TIMING_FILE = "timing.json"
export const TIMING_FORMAT = "fope-harness/training-timing@1"

/** Wall-clock training time up to a checkpoint, summed over the sessions that trained it (evaluation excluded). */
export interface TrainingTiming {
  readonly format: typeof TIMING_FORMAT
  readonly trainSeconds: number
  /** how many processes trained it: 1, plus one per resume */
  readonly sessions: number
}

export interface EmbeddingDescription {
  readonly name: string
  readonly family: string
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: Readonly<Record<string, number>>
}

export interface ModelDescription {
  readonly config: DecoderConfig
  /** the seed the decoder's weights (and, by the harness's convention, the embedding) were created from */
  readonly seed: number
  readonly embedding: EmbeddingDescription
}

export interface HistoryEntry {
  readonly step: number
  readonly loss: number
  readonly lr: number
  readonly gradNorm: number
}

export interface TrainingState {
  readonly format: typeof STATE_FORMAT
  readonly step: number
  readonly seed: number
  readonly spec: TrainSpec
  readonly mixer: { readonly fraction: number } | null
  readonly sampler: SamplerState
  readonly data: { readonly tokens: number; readonly sha256: string }
  readonly model: ModelDescription
  readonly history: ReadonlyArray<HistoryEntry>
}

export const describeModel = (model: Decoder): ModelDescription => ({
  config: { ...model.config },
  seed: model.seed,
  embedding: {
    name: model.embedding.name,
    family: model.embedding.family,
    params: model.embedding.params,
    shape: { ...model.embedding.shape }
  }
})

/** What the harness's weights are and how the forward pass uses them, said in config.json and the safetensors metadata. */
export const WEIGHT_LAYOUT =
  "[in, out]: y = x @ W. torch.nn.Linear stores [out, in]: transpose each matrix, or use `harness export --format llama`"

/** FoPE's frequency plan (kept and clipped frequencies at full precision, output width, padding), for config.json. */
const positionDetails = (model: Decoder): Record<string, unknown> => {
  const e = model.embedding
  if (e.name !== "fope") return {}
  const params = fopeParamsOf(e.params)
  const plan = fopePlan(params, e.shape)
  return {
    fope: {
      keptFrequencies: plan.kept,
      clippedFrequencies: plan.clipped,
      dOut: plan.dOut,
      padCos: 1,
      padSin: params.padSin,
      coefficients:
        "pos.fope.layer<l>.{cos,sin}Coef (or pos.fope.trainable.<i> when learnable), [heads, K kept, dOut]; divided by their sums over K when normalize",
      tables:
        "per layer, head h, position t, pair j < headDim/2: C = sum_k cos(t w_k) cosCoef[h,k,j], S = sum_k sin(t w_k) sinCoef[h,k,j] for j < dOut; " +
        "C = padCos, S = padSin for dOut <= j < headDim/2; the d/2 values repeat for both halves of the head"
    }
  }
}

/** config.json: what another tool needs to rebuild the network from model.safetensors (docs/checkpoint-format.md). */
export const modelConfigJson = (model: Decoder): Record<string, unknown> => ({
  architecture: "fope-harness-decoder",
  ...model.config,
  headDim: model.config.dModel / model.config.heads,
  norm: { type: "rmsnorm", eps: RMS_NORM_EPS, gain: true, placement: "pre", formula: "x / sqrt(mean(x^2) + eps) * gain" },
  activation: "swiglu",
  feedForward: "down(silu(x @ gate) * (x @ up)): the SiLU is on the gate matrix's output",
  attention: {
    heads: "head h takes columns [h*headDim, (h+1)*headDim) of x @ q, x @ k, x @ v; merged heads are concatenated in that order before o",
    scale: "1/sqrt(headDim) on the scores, causal mask, softmax",
    rotary:
      "half-split pairs (GPT-NeoX / HF Llama rotate_half): pair k is dimensions (k, k + headDim/2) of a head; " +
      "x' = x*cos + concat(-x[headDim/2:], x[:headDim/2])*sin, applied to q and k after the projection, before the scale"
  },
  bias: false,
  tiedEmbeddings: false,
  initStd: INIT_STD,
  dtype: "float32",
  weightLayout: WEIGHT_LAYOUT,
  positionEmbedding: { ...describeModel(model).embedding, ...positionDetails(model) },
  seed: model.seed,
  parameters: { total: model.parameterCount(), withoutEmbeddings: model.parameterCount({ includeEmbeddings: false }) },
  tensors: modelTensors(model).map((t) => ({ name: t.name, shape: t.shape }))
})

const json = (value: unknown): string => JSON.stringify(value, null, 2) + "\n"

export const saveTrainingCheckpoint = (
  dir: string,
  model: Decoder,
  optimizer: { step: number; tensors: ReadonlyArray<NamedArray> },
  state: TrainingState,
  timing?: Omit<TrainingTiming, "format">
): { path: string; sha256: string } =>
  writeCheckpointFiles(
    dir,
    [
      // "format" names the layout, not PyTorch's ("pt" would invite loading [in, out] matrices into nn.Linear)
      [
        MODEL_FILE,
        encodeSafetensors(modelTensors(model), {
          format: "fope-harness",
          producer: "fope-harness",
          weight_layout: WEIGHT_LAYOUT,
          config: JSON.stringify(describeModel(model))
        })
      ],
      [OPTIMIZER_FILE, encodeSafetensors(optimizer.tensors, { format: "fope-harness", optimizer: "adamw", step: String(optimizer.step) })],
      [STATE_FILE, json(state)],
      [CONFIG_FILE, json(modelConfigJson(model))]
    ],
    timing ? [[TIMING_FILE, json({ format: TIMING_FORMAT, ...timing })]] : []
  )

/**
 * The training time saved with a checkpoint; undefined for a checkpoint saved without one (by an older harness) or
 * an unreadable file: the time before it is then unknown, and the runner says so instead of guessing.
 */
export const readTrainingTiming = (dir: string): TrainingTiming | undefined => {
  try {
    const t = JSON.parse(readFileSync(join(dir, TIMING_FILE), "utf8")) as Partial<TrainingTiming>
    const valid =
      t.format === TIMING_FORMAT &&
      Number.isFinite(t.trainSeconds) &&
      t.trainSeconds! >= 0 &&
      Number.isInteger(t.sessions) &&
      t.sessions! >= 1
    return valid ? (t as TrainingTiming) : undefined
  } catch {
    return undefined
  }
}

export interface LoadedCheckpoint {
  readonly sha256: string
  readonly state: TrainingState
  readonly model: ReadonlyArray<NamedArray>
  readonly optimizer: { readonly step: number; readonly tensors: ReadonlyArray<NamedArray> }
}

const parseJson = <T>(bytes: Uint8Array | undefined, file: string): T => {
  if (!bytes) throw new CheckpointError(`the checkpoint's manifest does not list ${file}`)
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T
  } catch (e) {
    throw new CheckpointError(`${file} is not valid JSON (${(e as Error).message})`)
  }
}

/** Reads and verifies (sha256 of every file) a training checkpoint. */
export const loadTrainingCheckpoint = (dir: string): LoadedCheckpoint => {
  const { files, sha256 } = readVerifiedFiles(dir)
  const state = parseJson<TrainingState>(files.get(STATE_FILE), STATE_FILE)
  if (state.format !== STATE_FORMAT)
    throw new CheckpointError(`${dir}/${STATE_FILE} has format ${JSON.stringify(state.format)}, expected "${STATE_FORMAT}"`)
  const modelBytes = files.get(MODEL_FILE)
  const optimizerBytes = files.get(OPTIMIZER_FILE)
  if (!modelBytes || !optimizerBytes) throw new CheckpointError(`${dir}: the manifest lacks ${MODEL_FILE} or ${OPTIMIZER_FILE}`)
  const model = decodeSafetensors(modelBytes, `${dir}/${MODEL_FILE}`).tensors
  const opt = decodeSafetensors(optimizerBytes, `${dir}/${OPTIMIZER_FILE}`)
  const step = Number(opt.metadata.step)
  if (!Number.isInteger(step))
    throw new CheckpointError(`${dir}/${OPTIMIZER_FILE}: __metadata__.step is ${JSON.stringify(opt.metadata.step)}, not an integer`)
  return { sha256, state, model, optimizer: { step, tensors: opt.tensors } }
}

/** The model a checkpoint was saved from (configuration, seed, embedding spec), e.g. to rebuild it for `harness eval`. */
export const readCheckpointModel = (dir: string): ModelDescription => loadTrainingCheckpoint(dir).state.model

/** JSON with object keys sorted, so that key order does not matter in comparisons. */
const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  )

const sameConfig = (a: DecoderConfig, b: DecoderConfig): boolean =>
  (["vocabSize", "dModel", "heads", "layers", "ffnHidden", "trainLength"] as const).every((k) => a[k] === b[k])

/** Throws unless `model` has the saved configuration and position embedding. */
export const assertModelMatches = (model: Decoder, saved: ModelDescription, dir: string): void => {
  if (!sameConfig(model.config, saved.config)) {
    throw new CheckpointError(
      `${dir} was saved from a model with config ${JSON.stringify(saved.config)}, this model has ${JSON.stringify(model.config)}: build the model from the checkpoint's config.json`
    )
  }
  const e = model.embedding
  if (e.name !== saved.embedding.name || sortedJson(e.params) !== sortedJson(saved.embedding.params)) {
    throw new CheckpointError(
      `${dir} was saved with position embedding ${saved.embedding.name} ${JSON.stringify(saved.embedding.params)}, this model has ${e.name} ${JSON.stringify(e.params)}`
    )
  }
}

/**
 * Loads a checkpoint's weights into a model built with the same configuration and embedding (for evaluation without
 * retraining). Returns the checkpoint's hash and state (step, history).
 */
export const loadModelWeights = (model: Decoder, dir: string): { sha256: string; state: TrainingState } => {
  const loaded = loadTrainingCheckpoint(dir)
  assertModelMatches(model, loaded.state.model, dir)
  restoreModelTensors(model, loaded.model, `${dir}/${MODEL_FILE}`)
  return { sha256: loaded.sha256, state: loaded.state }
}
