/** The training recipe of one job (the contract's TrainSpec), with the FoPE paper's / nanoGPT's defaults. */
export interface TrainSpec {
  readonly steps: number
  readonly batchSize: number
  readonly seqLength: number
  readonly learningRate: number
  readonly warmupSteps: number
  /** cosine decays to minLrRatio x learningRate at the last step */
  readonly minLrRatio: number
  readonly weightDecay: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  /** global gradient-norm clip */
  readonly gradClip: number
  readonly checkpointEvery?: number
}

export const TRAIN_DEFAULTS = {
  minLrRatio: 0.1,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  gradClip: 1.0
} as const

/** A TrainSpec from the required fields, with the defaults filled in. */
export const trainSpec = (
  spec: Pick<TrainSpec, "steps" | "batchSize" | "seqLength" | "learningRate" | "warmupSteps"> & Partial<TrainSpec>
): TrainSpec => ({ ...TRAIN_DEFAULTS, ...spec })

/** Checks a spec; the message names the field and a valid range. */
export const validateTrainSpec = (spec: TrainSpec): void => {
  const problems: string[] = []
  const int = (k: keyof TrainSpec, min: number): void => {
    const v = spec[k]
    if (!Number.isInteger(v) || (v as number) < min) problems.push(`${k} must be an integer >= ${min}, got ${v}`)
  }
  const num = (k: keyof TrainSpec, lo: number, hi: number, loOpen = false): void => {
    const v = spec[k] as number
    if (typeof v !== "number" || !(loOpen ? v > lo : v >= lo) || !(v <= hi))
      problems.push(`${k} must be in ${loOpen ? "(" : "["}${lo}, ${hi}], got ${v}`)
  }
  int("steps", 1)
  int("batchSize", 1)
  int("seqLength", 1)
  int("warmupSteps", 0)
  num("learningRate", 0, Infinity, true)
  num("minLrRatio", 0, 1)
  num("weightDecay", 0, Infinity)
  num("beta1", 0, 1)
  num("beta2", 0, 1)
  num("eps", 0, Infinity, true)
  num("gradClip", 0, Infinity, true)
  if (spec.checkpointEvery !== undefined) int("checkpointEvery", 1)
  if (problems.length > 0) throw new Error(`invalid training spec: ${problems.join("; ")}`)
}
