/**
 * AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"), written out by hand over explicit
 * moment variables so that the optimizer state is plain data a checkpoint can save and restore exactly.
 * Same update as PyTorch's torch.optim.AdamW:
 *   p <- p * (1 - lr * wd)                       (decoupled decay; only for parameters with decay = true)
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Which parameters decay: the decoder's weight matrices (rank >= 2: token embedding, q/k/v/o, SwiGLU, output
 * projection), as in nanoGPT / OLMo. Not decayed: RMSNorm gains (decay would pull them to 0 instead of 1) and the
 * position embedding's trainable parameters (FoPE coefficients initialised near identity, KERPLE / ALiBi-like
 * slopes, FIRE's tiny MLP: decaying them to 0 would change the method, not regularise it).
 */
import * as tf from "@tensorflow/tfjs"
import type { NamedArray } from "../checkpoint/safetensors.js"
import { FUSED_ADAMW_KERNEL_NAME, hasFusedAdamW } from "../engine/index.js"

export interface AdamWConfig {
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly weightDecay: number
}

export interface OptimizedParameter {
  readonly name: string
  readonly variable: tf.Variable
  readonly decay: boolean
}

export class AdamW {
  /** number of updates applied so far (t in the bias corrections) */
  private updates = 0
  private readonly m: tf.Variable[]
  private readonly v: tf.Variable[]

  constructor(
    readonly parameters: ReadonlyArray<OptimizedParameter>,
    readonly config: AdamWConfig
  ) {
    this.m = parameters.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)))
    this.v = parameters.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)))
  }

  get step(): number {
    return this.updates
  }

  /** One update with gradients aligned with `parameters`, each multiplied by `gradScale` first (clipping). */
  apply(grads: ReadonlyArray<tf.Tensor>, learningRate: number, gradScale: number): void {
    const { beta1, beta2, eps, weightDecay } = this.config
    const t = this.updates + 1
    const stepSize = learningRate / (1 - Math.pow(beta1, t))
    const sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, t))
    if (hasFusedAdamW(tf.getBackend())) {
      // One kernel per parameter (models/engine/wasm-adamw.ts): bitwise the ops below, ~16x fewer kernels.
      tf.tidy(() => {
        this.parameters.forEach((p, i) => {
          const decay = p.decay && weightDecay !== 0 ? 1 - learningRate * weightDecay : 1
          const constants = {
            scale: gradScale,
            beta1,
            oneMinusBeta1: 1 - beta1,
            beta2,
            oneMinusBeta2: 1 - beta2,
            decay,
            sqrtCorrection2,
            eps,
            stepSize
          }
          const [next, m, v] = tf
            .engine()
            .runKernel(FUSED_ADAMW_KERNEL_NAME, { p: p.variable, m: this.m[i]!, v: this.v[i]!, g: grads[i]! }, constants) as tf.Tensor[]
          this.m[i]!.assign(m!)
          this.v[i]!.assign(v!)
          p.variable.assign(next!)
        })
      })
      this.updates = t
      return
    }
    tf.tidy(() => {
      this.parameters.forEach((p, i) => {
        const g = gradScale === 1 ? grads[i]! : grads[i]!.mul(gradScale)
        const m = this.m[i]!.mul(beta1).add(g.mul(1 - beta1))
        const v = this.v[i]!.mul(beta2).add(g.square().mul(1 - beta2))
        this.m[i]!.assign(m)
        this.v[i]!.assign(v)
        const decayed = p.decay && weightDecay !== 0 ? p.variable.mul(1 - learningRate * weightDecay) : p.variable
        const denom = v.sqrt().div(sqrtCorrection2).add(eps)
        p.variable.assign(decayed.sub(m.div(denom).mul(stepSize)))
      })
    })
    this.updates = t
  }

  /** The moments as named arrays (PyTorch's names: exp_avg, exp_avg_sq) and the update count. */
  state(): { step: number; tensors: NamedArray[] } {
    const tensors: NamedArray[] = []
    this.parameters.forEach((p, i) => {
      tensors.push({
        name: `exp_avg.${p.name}`,
        dtype: "F32",
        shape: p.variable.shape,
        data: Float32Array.from(this.m[i]!.dataSync() as Float32Array)
      })
      tensors.push({
        name: `exp_avg_sq.${p.name}`,
        dtype: "F32",
        shape: p.variable.shape,
        data: Float32Array.from(this.v[i]!.dataSync() as Float32Array)
      })
    })
    return { step: this.updates, tensors }
  }

  restore(step: number, tensors: ReadonlyArray<NamedArray>, what = "optimizer.safetensors"): void {
    const byName = new Map(tensors.map((t) => [t.name, t]))
    this.parameters.forEach((p, i) => {
      for (const [prefix, slot] of [
        ["exp_avg", this.m[i]!],
        ["exp_avg_sq", this.v[i]!]
      ] as const) {
        const t = byName.get(`${prefix}.${p.name}`)
        if (!t || t.data.length !== slot.size) {
          throw new Error(`${what} lacks "${prefix}.${p.name}" with ${slot.size} values: the checkpoint was saved from another model`)
        }
        tf.tidy(() => slot.assign(tf.tensor(t.data, slot.shape, "float32")))
      }
    })
    this.updates = step
  }

  /** The moment tensors (for reading them back before state()). */
  tensors(): tf.Tensor[] {
    return [...this.m, ...this.v]
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose()
  }
}
