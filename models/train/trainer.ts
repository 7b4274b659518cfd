/**
 * The training loop, one step at a time, so that a runner (Effect) can interrupt, checkpoint and report between
 * steps. A step: draw a batch, loss and gradients (tf.variableGrads), check the loss and gradient norm are finite,
 * clip the global gradient norm, AdamW update with the scheduled learning rate. All of it inside tf.tidy: the
 * number of live tensors is the same after every step.
 */
import * as tf from "@tensorflow/tfjs"
import type { Decoder } from "../decoder.js"
import {
  assertModelMatches,
  describeModel,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  STATE_FORMAT,
  type TrainingTiming,
  type HistoryEntry,
  type TrainingState
} from "../checkpoint/checkpoint.js"
import { CheckpointError, sha256Hex } from "../checkpoint/manifest.js"
import { restoreModelTensors } from "../checkpoint/model-tensors.js"
import { AdamW } from "./adamw.js"
import { BatchSampler, type Mixer } from "./batch-sampler.js"
import { NonFiniteLossError } from "./errors.js"
import { learningRateAt } from "./schedule.js"
import { validateTrainSpec, type TrainSpec } from "./spec.js"

export interface StepResult {
  /** 1-based number of the step just made (== trainer.step afterwards) */
  readonly step: number
  /** mean next-token cross-entropy of this step's batch, nats, before the update */
  readonly loss: number
  readonly lr: number
  /** global gradient norm before clipping */
  readonly gradNorm: number
  /** tokens predicted in this step: batchSize x seqLength */
  readonly tokens: number
  /** wall-clock seconds of this step (not saved in checkpoints) */
  readonly seconds: number
}

const dataFingerprint = (data: Int32Array): { tokens: number; sha256: string } => ({
  tokens: data.length,
  sha256: sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
})

/**
 * How a step is computed, not what it computes (so not part of the spec, the job key or a checkpoint): a batch
 * split into micro-batches whose gradients are summed (each scaled by its share), and the loss over chunks of
 * positions (models/train/chunked-loss.ts). Both change only float rounding; the defaults (1 micro-batch, no
 * chunking) are the plain step, bit for bit. models/engine/memory-plan.ts picks them against a device's limits.
 */
export interface StepExecution {
  readonly microBatches?: number
  readonly lossChunk?: number
}

interface PendingStep {
  readonly step: number
  readonly lr: number
  readonly samplerBefore: ReturnType<BatchSampler["state"]>
  readonly started: number
  readonly gradients: tf.Tensor[]
  /** [loss, squared gradient norm] */
  readonly stats: tf.Tensor1D
}

export class Trainer {
  private completed = 0
  private readonly losses: HistoryEntry[] = []
  private readonly optimizer: AdamW
  private readonly sampler: BatchSampler
  private readonly data: { tokens: number; sha256: string }

  private constructor(
    readonly model: Decoder,
    data: Int32Array,
    readonly spec: TrainSpec,
    readonly seed: number,
    private readonly mixer?: Mixer,
    private readonly execution: StepExecution = {}
  ) {
    validateTrainSpec(spec)
    const micro = execution.microBatches ?? 1
    if (!Number.isInteger(micro) || micro < 1 || spec.batchSize % micro !== 0) {
      throw new Error(`microBatches ${micro} must be a positive integer dividing the batch size ${spec.batchSize}`)
    }
    const maxLength = model.embedding.maxLength
    if (maxLength !== undefined && spec.seqLength > maxLength) {
      throw new Error(`seqLength ${spec.seqLength} exceeds the position embedding's maxLength ${maxLength}: train at <= ${maxLength}`)
    }
    this.sampler = new BatchSampler(data, spec.batchSize, spec.seqLength, seed, mixer)
    this.data = dataFingerprint(data)
    const ownNames = new Set(model.namedParameters.map(([n]) => n))
    this.optimizer = new AdamW(
      model.namedTrainable.map(([name, variable]) => ({
        name,
        variable,
        // decay the decoder's matrices only: see adamw.ts for why not norm gains or position-embedding parameters
        decay: ownNames.has(name) && variable.rank >= 2
      })),
      { beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay }
    )
  }

  /** A fresh run: `seed` drives the data order and the mixer (the model's weights come from its own seed). */
  static create(model: Decoder, data: Int32Array, spec: TrainSpec, seed: number, mixer?: Mixer, execution?: StepExecution): Trainer {
    return new Trainer(model, data, spec, seed, mixer, execution)
  }

  /**
   * Continues a run from a checkpoint: weights, optimizer moments, every generator, the data cursor and the loss
   * history are restored, so the following steps are the ones the uninterrupted run would have made. `model` must be
   * built with the checkpoint's configuration and embedding (state.json: model); `data` must be the same tokens.
   */
  /**
   * resume(), after reading the model's fixed tensors back asynchronously: on a GPU backend (no synchronous read in
   * Node) the checkpoint's fixed tensors are then compared with these CPU copies.
   */
  static async resumeAsync(
    checkpointDir: string,
    model: Decoder,
    data: Int32Array,
    mixer?: Mixer,
    execution?: StepExecution
  ): Promise<Trainer> {
    await Promise.all(Object.values(model.embedding.fixed).map((t) => t.data()))
    return Trainer.resume(checkpointDir, model, data, mixer, execution)
  }

  static resume(checkpointDir: string, model: Decoder, data: Int32Array, mixer?: Mixer, execution?: StepExecution): Trainer {
    const loaded = loadTrainingCheckpoint(checkpointDir)
    const state = loaded.state
    assertModelMatches(model, state.model, checkpointDir)
    const fingerprint = dataFingerprint(data)
    if (fingerprint.sha256 !== state.data.sha256) {
      throw new CheckpointError(
        `${checkpointDir} was trained on other data (${state.data.tokens} tokens, sha256 ${state.data.sha256.slice(0, 12)}...; ` +
          `given ${fingerprint.tokens} tokens, ${fingerprint.sha256.slice(0, 12)}...): resume with the same corpus, tokenizer and split`
      )
    }
    if ((state.mixer === null) !== (mixer === undefined) || (mixer && state.mixer && mixer.fraction !== state.mixer.fraction)) {
      throw new CheckpointError(
        `${checkpointDir} was trained with mixer ${JSON.stringify(state.mixer)}, resumed with ${mixer ? `fraction ${mixer.fraction}` : "none"}: pass the same mixer`
      )
    }
    const trainer = new Trainer(model, data, state.spec, state.seed, mixer, execution)
    restoreModelTensors(model, loaded.model, `${checkpointDir}/model.safetensors`)
    trainer.optimizer.restore(loaded.optimizer.step, loaded.optimizer.tensors, `${checkpointDir}/optimizer.safetensors`)
    trainer.sampler.restore(state.sampler)
    trainer.completed = state.step
    trainer.losses.push(...state.history)
    return trainer
  }

  get step(): number {
    return this.completed
  }

  get done(): boolean {
    return this.completed >= this.spec.steps
  }

  /** true right after a step whose number is a multiple of spec.checkpointEvery (the runner then calls checkpoint) */
  get checkpointDue(): boolean {
    const every = this.spec.checkpointEvery
    return every !== undefined && this.completed > 0 && this.completed % every === 0
  }

  /** Every step so far (restored ones included): step, loss, lr, gradNorm. */
  get history(): ReadonlyArray<HistoryEntry> {
    return this.losses
  }

  /** One optimizer step. Throws NonFiniteLossError (nothing updated, the batch not consumed) on a NaN/Inf loss or gradient. */
  next(): StepResult {
    const pending = this.begin()
    return this.finish(pending, pending.stats.dataSync())
  }

  /**
   * The same step, reading the loss and gradient norm back asynchronously: a GPU backend (tfjs-backend-webgpu in
   * Node) has no synchronous read. Same operations, same bits as next().
   */
  async nextAsync(): Promise<StepResult> {
    const pending = this.begin()
    let values: ArrayLike<number>
    try {
      values = (await pending.stats.data()) as Float32Array
    } catch (e) {
      for (const t of [...pending.gradients, pending.stats]) t.dispose()
      throw e
    }
    return this.finish(pending, values)
  }

  /** Draws the batch and computes loss and gradients; the caller reads `stats` and calls finish. */
  private begin(): PendingStep {
    if (this.done)
      throw new Error(`training is done (${this.completed} of ${this.spec.steps} steps); create a new Trainer to train further`)
    const started = performance.now()
    const step = this.completed + 1
    const { batchSize: B, seqLength: T } = this.spec
    const lr = learningRateAt(this.spec, step)
    const samplerBefore = this.sampler.state()
    const batch = this.sampler.next() // [B, T+1] row-major
    const parameters = this.optimizer.parameters
    const variables = parameters.map((p) => p.variable)
    const micro = this.execution.microBatches ?? 1
    // the step number lets a position embedding train at that step's randomized positions (none: no effect)
    const lossOptions = { trainingStep: step, ...(this.execution.lossChunk !== undefined ? { lossChunk: this.execution.lossChunk } : {}) }
    const gradientsOf = (rows: Int32Array, count: number): { value: tf.Scalar; ordered: tf.Tensor[] } => {
      const tokens = tf.tensor2d(rows, [count, T + 1], "int32") // [count, T+1]
      const { value, grads } = tf.variableGrads(() => this.model.loss(tokens, lossOptions), variables)
      // a variable the loss does not reach (e.g. an unused embedding parameter) gets a zero gradient
      return { value, ordered: parameters.map((p) => grads[p.variable.name] ?? tf.zerosLike(p.variable)) }
    }
    const computed = tf.tidy(() => {
      let value: tf.Scalar
      let ordered: tf.Tensor[]
      if (micro === 1) {
        ;({ value, ordered } = gradientsOf(batch, B))
      } else {
        // equal micro-batches: the batch mean is the mean of their means, so each contributes 1/micro of its gradient
        const rows = B / micro
        const width = (T + 1) * rows
        let sum: tf.Tensor[] = [] // [loss, ...gradients], accumulated
        for (let m = 0; m < micro; m++) {
          const prior = sum
          sum = tf.tidy(() => {
            const part = gradientsOf(batch.subarray(m * width, (m + 1) * width), rows)
            const scaled = [part.value, ...part.ordered].map((t) => t.div(micro))
            return prior.length === 0 ? scaled : prior.map((t, i) => t.add(scaled[i]!))
          })
          for (const t of prior) t.dispose()
        }
        value = sum[0] as tf.Scalar
        ordered = sum.slice(1)
      }
      const squaredNorm = tf.addN(ordered.map((g) => tf.sum(tf.square(g)))) // global L2 norm^2 over all gradients
      return { gradients: ordered, stats: tf.stack([value, squaredNorm]) as tf.Tensor1D }
    })
    return { step, lr, samplerBefore, started, ...computed }
  }

  /** Checks the loss and norm, clips, applies AdamW, frees the step's tensors. */
  private finish(pending: PendingStep, values: ArrayLike<number>): StepResult {
    const { step, lr, gradients } = pending
    const { batchSize: B, seqLength: T, gradClip } = this.spec
    const loss = values[0]!
    const gradNorm = Math.sqrt(values[1]!)
    try {
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        this.sampler.restore(pending.samplerBefore)
        throw Number.isFinite(loss)
          ? new NonFiniteLossError(step, loss, "gradient norm", gradNorm)
          : new NonFiniteLossError(step, loss, "loss", gradNorm)
      }
      // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1
      const scale = Math.min(1, gradClip / (gradNorm + 1e-6))
      tf.tidy(() => this.optimizer.apply(gradients, lr, scale))
    } finally {
      for (const t of [...gradients, pending.stats]) t.dispose()
    }
    this.completed = step
    this.losses.push({ step, loss, lr, gradNorm })
    return { step, loss, lr, gradNorm, tokens: B * T, seconds: (performance.now() - pending.started) / 1000 }
  }

  /**
   * checkpoint(), after reading every tensor it saves back asynchronously: tfjs-backend-webgpu then serves the
   * synchronous reads of the checkpoint writer from its CPU copies.
   */
  async checkpointAsync(dir: string, timing?: Omit<TrainingTiming, "format">): Promise<{ path: string; sha256: string }> {
    const fixed = Object.values(this.model.embedding.fixed)
    await Promise.all([...this.model.namedTrainable.map(([, v]) => v), ...fixed, ...this.optimizer.tensors()].map((t) => t.data()))
    return this.checkpoint(dir, timing)
  }

  /**
   * Saves everything a resume needs into `dir`; returns the directory and the checkpoint's sha256 (of its manifest).
   * `timing`, the caller's wall clock, is saved beside the checkpoint, outside its hash.
   */
  checkpoint(dir: string, timing?: Omit<TrainingTiming, "format">): { path: string; sha256: string } {
    const state: TrainingState = {
      format: STATE_FORMAT,
      step: this.completed,
      seed: this.seed,
      spec: this.spec,
      mixer: this.mixer ? { fraction: this.mixer.fraction } : null,
      sampler: this.sampler.state(),
      data: this.data,
      model: describeModel(this.model),
      history: this.losses
    }
    return saveTrainingCheckpoint(dir, this.model, this.optimizer.state(), state, timing)
  }

  /** Frees the optimizer's moments (the model belongs to the caller). */
  dispose(): void {
    this.optimizer.dispose()
  }
}
