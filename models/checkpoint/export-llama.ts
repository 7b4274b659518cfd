/**
 * A trained decoder in the layout of Hugging Face transformers' Llama models (`LlamaForCausalLM`): config.json and
 * model.safetensors with PyTorch's [out, in] matrices under Llama's tensor names. docs/checkpoint-format.md
 * describes both this layout and the harness's own checkpoint.
 *
 * The harness's decoder is a Llama block for block: pre-norm RMSNorm with a gain (eps 1e-6), q/k/v/o projections
 * without bias, heads taking consecutive hd-wide column blocks of q/k/v, scores scaled by 1/sqrt(hd), causal
 * softmax, SwiGLU `down(silu(gate x) * up x)`, a final RMSNorm and an untied head; its rotary embedding uses the
 * half-split pairs of `rotate_half` (GPT-NeoX / HF Llama), so no permutation of q and k is needed. What changes:
 *   - every matrix is transposed: the harness stores [in, out] (y = x @ W), torch.nn.Linear [out, in];
 *   - RoPE: `rope_theta` = its base; the rotary tables are HF's default ones;
 *   - NoPE: the same tensors; Llama always rotates, so the loader zeroes `inv_freq` (angles 0: cos 1, sin 0,
 *     the identity), which the config says under `fope_harness.load`;
 *   - FoPE: the Llama tensors plus, per layer, the Fourier coefficients actually used (after the optional
 *     normalisation), and the kept frequencies at full precision in config.json; a small custom rotary module
 *     rebuilds its tables (docs/checkpoint-format.md).
 * Other embeddings (ALiBi, KERPLE, FIRE, T5, xPos, p-RoPE, learned, sinusoidal, ...) do not map onto Llama and are
 * refused by name.
 */
import * as tf from "@tensorflow/tfjs"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fopeParamsOf, fopePlan } from "../../embeddings/fope.js"
import { RMS_NORM_EPS, type Decoder } from "../decoder.js"
import { CheckpointError } from "./manifest.js"
import { encodeSafetensors, type NamedArray } from "./safetensors.js"

export const LLAMA_EXPORTABLE = ["rope", "nope", "fope"] as const

export interface LlamaExport {
  readonly config: Record<string, unknown>
  readonly tensors: ReadonlyArray<NamedArray>
}

const f32 = (name: string, shape: ReadonlyArray<number>, data: Float32Array): NamedArray => ({ name, dtype: "F32", shape, data })

/** [rows, cols] row-major -> [cols, rows] row-major. */
const transposed = (data: Float32Array, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!
  return out
}

/** The Llama tensor name of each harness matrix or gain, and whether it is a Linear weight (transposed). */
const LAYER_NAMES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["attn_norm.weight", "input_layernorm.weight", false],
  ["attn.q.weight", "self_attn.q_proj.weight", true],
  ["attn.k.weight", "self_attn.k_proj.weight", true],
  ["attn.v.weight", "self_attn.v_proj.weight", true],
  ["attn.o.weight", "self_attn.o_proj.weight", true],
  ["mlp_norm.weight", "post_attention_layernorm.weight", false],
  ["mlp.gate.weight", "mlp.gate_proj.weight", true],
  ["mlp.up.weight", "mlp.up_proj.weight", true],
  ["mlp.down.weight", "mlp.down_proj.weight", true]
]

const llamaName = (name: string): { name: string; linear: boolean } => {
  if (name === "tok_embeddings.weight") return { name: "model.embed_tokens.weight", linear: false }
  if (name === "final_norm.weight") return { name: "model.norm.weight", linear: false }
  if (name === "lm_head.weight") return { name: "lm_head.weight", linear: true }
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name)
  const entry = m ? LAYER_NAMES.find(([ours]) => ours === m[2]) : undefined
  if (!m || !entry) throw new CheckpointError(`no Llama name for the decoder tensor "${name}"`)
  return { name: `model.layers.${m[1]}.${entry[1]}`, linear: entry[2] }
}

/** FoPE's coefficients as the tables use them: per layer [H, K, dOut], divided by their sums over K when `normalize`. */
const fopeCoefficients = (model: Decoder, layer: number, which: "cos" | "sin"): tf.Tensor3D => {
  const e = model.embedding
  const key = `layer${layer}/${which}Coef`
  const trainableIndex = (e.trainableNames ?? []).indexOf(key)
  const raw = (e.fixed[key] ?? (trainableIndex >= 0 ? e.trainable[trainableIndex] : undefined)) as tf.Tensor3D | undefined
  if (!raw) throw new CheckpointError(`fope: the model has no coefficients "${key}"`)
  return fopeParamsOf(e.params).normalize ? tf.tidy(() => tf.div(raw, tf.sum(raw, 1, true)) as tf.Tensor3D) : tf.clone(raw)
}

/** config.json + tensors in the Llama layout (see the header); refuses embeddings that do not map onto it. */
export const llamaExport = (model: Decoder): LlamaExport => {
  const e = model.embedding
  if (!(LLAMA_EXPORTABLE as ReadonlyArray<string>).includes(e.name)) {
    throw new CheckpointError(
      `--format llama: position embedding "${e.name}" does not map onto a Llama model (rotary halves or none); exportable: ${LLAMA_EXPORTABLE.join(", ")}. ` +
        `The checkpoint's own model.safetensors + config.json describe every embedding (docs/checkpoint-format.md)`
    )
  }
  const c = model.config
  const hd = c.dModel / c.heads
  const tensors: NamedArray[] = model.namedParameters.map(([ours, v]) => {
    const { name, linear } = llamaName(ours)
    const data = Float32Array.from(v.dataSync() as Float32Array)
    if (!linear) return f32(name, v.shape, data)
    const [rows, cols] = v.shape as [number, number]
    return f32(name, [cols, rows], transposed(data, rows, cols))
  })
  const base = typeof e.params.base === "number" ? e.params.base : 10000
  const harness: Record<string, unknown> = {
    producer: "fope-harness",
    position_embedding: { name: e.name, params: e.params },
    train_length: c.trainLength
  }
  if (e.name === "nope") {
    harness.load =
      "NoPE: LlamaForCausalLM always applies rotary tables; after loading, zero every `inv_freq` buffer (angles 0: cos 1, sin 0, no rotation)"
  }
  if (e.name === "fope") {
    const params = fopeParamsOf(e.params)
    const plan = fopePlan(params, e.shape)
    for (let l = 0; l < c.layers; l++) {
      for (const which of ["cos", "sin"] as const) {
        const coef = fopeCoefficients(model, l, which)
        tensors.push(f32(`model.layers.${l}.self_attn.fope.${which}_coef`, coef.shape, Float32Array.from(coef.dataSync() as Float32Array)))
        coef.dispose()
      }
    }
    harness.fope = {
      // JSON numbers keep the float64 frequencies the harness computes its phases from
      kept_frequencies: plan.kept,
      clipped_frequencies: plan.clipped,
      d_out: plan.dOut,
      pad_cos: 1,
      pad_sin: params.padSin,
      coefficients:
        "model.layers.<l>.self_attn.fope.{cos,sin}_coef, [heads, K kept frequencies, d_out], already normalised when params.normalize",
      tables:
        "per layer and head h, position t, pair j < head_dim/2: C[h,t,j] = sum_k cos(t w_k) cos_coef[h,k,j] and S[h,t,j] = sum_k sin(t w_k) sin_coef[h,k,j] for j < d_out; " +
        "C = pad_cos and S = pad_sin for d_out <= j < head_dim/2; both halves of the head use the same d/2 values; q' = q*C + rotate_half(q)*S, k likewise",
      load: "replace the rotary embedding of each attention layer by these tables (docs/checkpoint-format.md has a module)"
    }
  }
  const config = {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.ffnHidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.heads,
    head_dim: hd,
    hidden_act: "silu",
    max_position_embeddings: c.trainLength,
    rms_norm_eps: RMS_NORM_EPS,
    rope_theta: base,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: false,
    initializer_range: 0.02,
    pretraining_tp: 1,
    use_cache: true,
    bos_token_id: null,
    eos_token_id: null,
    torch_dtype: "float32",
    fope_harness: harness
  }
  return { config, tensors }
}

/** Writes config.json and model.safetensors (metadata `format: pt`: the weights are PyTorch's [out, in]) into `outDir`. */
export const writeLlamaExport = (model: Decoder, outDir: string): { config: string; weights: string } => {
  const { config, tensors } = llamaExport(model)
  mkdirSync(outDir, { recursive: true })
  const configPath = join(outDir, "config.json")
  const weightsPath = join(outDir, "model.safetensors")
  writeFileSync(configPath, JSON.stringify(config, null, 2) + "\n")
  writeFileSync(
    weightsPath,
    encodeSafetensors(tensors, { format: "pt", producer: "fope-harness", layout: "llama (torch.nn.Linear [out, in])" })
  )
  return { config: configPath, weights: weightsPath }
}
