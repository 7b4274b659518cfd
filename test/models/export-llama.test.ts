/**
 * `harness export <checkpoint> --format llama`, reloaded: the files are read back with nothing but the safetensors
 * reader and config.json, a Llama forward pass is computed in plain JS (float64) from them the way transformers'
 * LlamaForCausalLM computes it, and its logits are compared with the harness decoder's. RoPE through HF's default
 * rotary tables, NoPE with inv_freq zeroed, FoPE through the documented custom tables.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { createEmbedding } from "../../embeddings/registry.js"
import { Decoder } from "../../models/decoder.js"
import { llamaExport } from "../../models/checkpoint/export-llama.js"
import { decodeSafetensors } from "../../models/checkpoint/safetensors.js"
import { initEngine } from "../../models/engine/index.js"
import { Trainer, trainSpec } from "../../models/train/index.js"
import { harness, scratch } from "../harness/helpers.js"

const CONFIG = { vocabSize: 40, dModel: 16, heads: 2, layers: 2, ffnHidden: 24, trainLength: 16 }
const T = 12

interface Loaded {
  readonly config: Record<string, any>
  readonly tensor: (name: string) => { shape: ReadonlyArray<number>; data: Float32Array }
  readonly names: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, string>>
}

const reload = (dir: string): Loaded => {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, any>
  const st = decodeSafetensors(new Uint8Array(readFileSync(join(dir, "model.safetensors"))), "model.safetensors")
  const byName = new Map(st.tensors.map((t) => [t.name, t]))
  return {
    config,
    names: st.tensors.map((t) => t.name),
    metadata: st.metadata,
    tensor: (name) => {
      const t = byName.get(name)
      if (!t) throw new Error(`the export has no tensor ${name}`)
      return { shape: t.shape, data: t.data as Float32Array }
    }
  }
}

/** cos / sin of pair j (< head_dim/2) of head h at position t. */
type Rotary = (layer: number, h: number, t: number, j: number) => { cos: number; sin: number }

/** transformers' LlamaForCausalLM forward, in float64, from the exported tensors ([out, in] weights). */
const llamaLogits = (m: Loaded, ids: ReadonlyArray<number>, rotary: Rotary): number[][] => {
  const c = m.config
  const d: number = c.hidden_size
  const H: number = c.num_attention_heads
  const hd: number = c.head_dim
  const eps: number = c.rms_norm_eps
  const linear = (name: string, x: ReadonlyArray<number>): number[] => {
    const { shape, data } = m.tensor(name)
    const [out, inp] = shape as [number, number]
    expect(inp).toBe(x.length)
    return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + data[o * inp + i]! * xi, 0))
  }
  const rms = (name: string, x: ReadonlyArray<number>): number[] => {
    const g = m.tensor(name).data
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + eps)
    return x.map((v, i) => v * r * g[i]!)
  }
  const rotate = (v: number[], layer: number, h: number, t: number): number[] => {
    const half = hd / 2
    return v.map((x, i) => {
      const { cos, sin } = rotary(layer, h, t, i % half)
      const rot = i < half ? -v[i + half]! : v[i - half]! // rotate_half
      return x * cos + rot * sin
    })
  }
  const embed = m.tensor("model.embed_tokens.weight").data
  let xs = ids.map((id) => Array.from(embed.subarray(id * d, (id + 1) * d)))
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`
    const hs = xs.map((x) => rms(`${p}.input_layernorm.weight`, x))
    const q = hs.map((h) => linear(`${p}.self_attn.q_proj.weight`, h))
    const k = hs.map((h) => linear(`${p}.self_attn.k_proj.weight`, h))
    const v = hs.map((h) => linear(`${p}.self_attn.v_proj.weight`, h))
    const merged = xs.map(() => new Array<number>(d).fill(0))
    for (let h = 0; h < H; h++) {
      const head = (rows: number[][], t: number) => rows[t]!.slice(h * hd, (h + 1) * hd)
      const qr = ids.map((_, t) => rotate(head(q, t), l, h, t))
      const kr = ids.map((_, t) => rotate(head(k, t), l, h, t))
      for (let t = 0; t < ids.length; t++) {
        const scores = Array.from({ length: t + 1 }, (_, s) => qr[t]!.reduce((a, qi, i) => a + qi * kr[s]![i]!, 0) / Math.sqrt(hd))
        const max = Math.max(...scores)
        const e = scores.map((s) => Math.exp(s - max))
        const z = e.reduce((a, b) => a + b, 0)
        for (let s = 0; s <= t; s++) for (let i = 0; i < hd; i++) merged[t]![h * hd + i]! += (e[s]! / z) * head(v, s)[i]!
      }
    }
    xs = xs.map((x, t) => {
      const x1 = linear(`${p}.self_attn.o_proj.weight`, merged[t]!).map((o, i) => x[i]! + o)
      const h2 = rms(`${p}.post_attention_layernorm.weight`, x1)
      const gate = linear(`${p}.mlp.gate_proj.weight`, h2)
      const up = linear(`${p}.mlp.up_proj.weight`, h2)
      const inner = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!)
      return linear(`${p}.mlp.down_proj.weight`, inner).map((o, i) => x1[i]! + o)
    })
  }
  return xs.map((x) => linear("lm_head.weight", rms("model.norm.weight", x)))
}

const ropeTables = (m: Loaded): Rotary => {
  const hd: number = m.config.head_dim
  // transformers' default rope: inv_freq = 1 / theta^(arange(0, hd, 2) / hd)
  const invFreq = Array.from({ length: hd / 2 }, (_, j) => 1 / m.config.rope_theta ** ((2 * j) / hd))
  return (_l, _h, t, j) => ({ cos: Math.cos(t * invFreq[j]!), sin: Math.sin(t * invFreq[j]!) })
}

const fopeTables = (m: Loaded): Rotary => {
  const f = m.config.fope_harness.fope
  const w: number[] = f.kept_frequencies
  return (l, h, t, j) => {
    if (j >= f.d_out) return { cos: f.pad_cos, sin: f.pad_sin }
    const coef = (which: string) => m.tensor(`model.layers.${l}.self_attn.fope.${which}_coef`)
    const [, K, dOut] = coef("cos").shape as [number, number, number]
    let cos = 0
    let sin = 0
    for (let k = 0; k < K; k++) {
      cos += Math.cos(t * w[k]!) * coef("cos").data[(h * K + k) * dOut + j]!
      sin += Math.sin(t * w[k]!) * coef("sin").data[(h * K + k) * dOut + j]!
    }
    return { cos, sin }
  }
}

/** A decoder trained two steps (so gains and matrices are no longer their init) and checkpointed. */
const trainedCheckpoint = (embedding: string, params: Record<string, unknown> = {}): { dir: string; model: Decoder } => {
  const headDim = CONFIG.dModel / CONFIG.heads
  const shape = { dModel: CONFIG.dModel, heads: CONFIG.heads, headDim, layers: CONFIG.layers, trainLength: CONFIG.trainLength }
  const model = Decoder.create(CONFIG, createEmbedding({ name: embedding, params }, shape, 3), 3)
  const data = Int32Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % CONFIG.vocabSize)
  const trainer = Trainer.create(
    model,
    data,
    trainSpec({ steps: 2, batchSize: 2, seqLength: CONFIG.trainLength, learningRate: 0.05, warmupSteps: 1 }),
    3
  )
  trainer.next()
  trainer.next()
  const dir = join(scratch("export-ckpt-"), embedding)
  trainer.checkpoint(dir)
  trainer.dispose()
  return { dir, model }
}

const TOKENS = [1, 5, 9, 2, 33, 7, 7, 0, 12, 39, 4, 21]

const harnessLogits = (model: Decoder): number[][] => tf.tidy(() => model.logits(tf.tensor2d(TOKENS, [1, T], "int32")).arraySync()[0]!)

const exportAndReload = async (dir: string): Promise<Loaded> => {
  const out = join(scratch("export-out-"), "llama")
  const r = await harness("export", dir, "--format", "llama", "--out", out)
  expect(r.exitCode, r.err).toBe(0)
  expect(r.out).toContain(join(out, "model.safetensors"))
  return reload(out)
}

const maxDifference = (a: number[][], b: number[][]): number =>
  Math.max(...a.flatMap((row, t) => row.map((x, v) => Math.abs(x - b[t]![v]!))))

beforeAll(async () => {
  await initEngine({ backend: "cpu" })
})

describe("harness export --format llama", () => {
  it("RoPE: LlamaForCausalLM's names, [out, in] shapes and config; a plain Llama forward gives the harness's logits", async () => {
    const { dir, model } = trainedCheckpoint("rope")
    const m = await exportAndReload(dir)
    const c = m.config
    expect(c).toMatchObject({
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      hidden_size: 16,
      intermediate_size: 24,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      num_hidden_layers: 2,
      vocab_size: 40,
      head_dim: 8,
      hidden_act: "silu",
      rms_norm_eps: 1e-6,
      rope_theta: 10000,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false
    })
    expect(m.metadata.format).toBe("pt")
    const layer = (l: number) =>
      [
        "input_layernorm",
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "post_attention_layernorm",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj"
      ].map((n) => `model.layers.${l}.${n}.weight`)
    expect([...m.names].sort()).toEqual(
      ["model.embed_tokens.weight", ...layer(0), ...layer(1), "model.norm.weight", "lm_head.weight"].sort()
    )
    expect(m.tensor("model.layers.0.mlp.gate_proj.weight").shape).toEqual([24, 16])
    expect(m.tensor("model.layers.0.mlp.down_proj.weight").shape).toEqual([16, 24])
    expect(m.tensor("lm_head.weight").shape).toEqual([40, 16])
    expect(m.tensor("model.embed_tokens.weight").shape).toEqual([40, 16])

    const expected = harnessLogits(model)
    const actual = llamaLogits(m, TOKENS, ropeTables(m))
    expect(maxDifference(actual, expected)).toBeLessThan(1e-4)
    // the layout is what makes them agree: the square matrices untransposed give other logits
    const q = m.tensor("model.layers.0.self_attn.q_proj.weight").data
    const untransposed = Float32Array.from({ length: 256 }, (_, i) => q[(i % 16) * 16 + Math.floor(i / 16)]!)
    q.set(untransposed)
    expect(maxDifference(llamaLogits(m, TOKENS, ropeTables(m)), expected)).toBeGreaterThan(1e-3)
    model.dispose()
  }, 60_000)

  it("NoPE: the same layout; with inv_freq zeroed (no rotation) the Llama forward gives the harness's logits", async () => {
    const { dir, model } = trainedCheckpoint("nope")
    const m = await exportAndReload(dir)
    expect(m.config.fope_harness.load).toMatch(/zero every `inv_freq`/)
    const identity: Rotary = () => ({ cos: 1, sin: 0 })
    expect(maxDifference(llamaLogits(m, TOKENS, identity), harnessLogits(model))).toBeLessThan(1e-4)
    model.dispose()
  }, 60_000)

  it("FoPE: coefficients as extra tensors and the kept frequencies in config.json rebuild its tables", async () => {
    const { dir, model } = trainedCheckpoint("fope")
    const m = await exportAndReload(dir)
    const f = m.config.fope_harness.fope
    expect(f.kept_frequencies.length).toBeGreaterThan(0)
    expect(f.d_out).toBeGreaterThan(0)
    expect(m.tensor("model.layers.1.self_attn.fope.sin_coef").shape).toEqual([2, f.kept_frequencies.length, f.d_out])
    expect(maxDifference(llamaLogits(m, TOKENS, fopeTables(m)), harnessLogits(model))).toBeLessThan(1e-4)
    model.dispose()
  }, 60_000)

  it("refuses an embedding that does not map onto Llama, and a checkpoint folder that is not one", async () => {
    const shape = { dModel: 16, heads: 2, headDim: 8, layers: 2, trainLength: 16 }
    const model = Decoder.create(CONFIG, createEmbedding({ name: "alibi" }, shape, 0), 0)
    expect(() => llamaExport(model)).toThrow(/position embedding "alibi" does not map onto a Llama model .*exportable: rope, nope, fope/)
    model.dispose()
    const r = await harness("export", scratch("not-a-ckpt-"), "--format", "llama")
    expect(r.exitCode).not.toBe(0)
    expect(r.err).toMatch(/is not a checkpoint directory \(no manifest\.json\)/)
  })
})
