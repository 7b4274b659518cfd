/**
 * Learning-rate schedule: linear warmup from lr/warmup to lr over `warmupSteps`, then cosine decay to
 * `minLrRatio * lr` at the last step (the FoPE paper trains OLMo with warmup + cosine; nanoGPT's get_lr).
 * `step` is 1-based: the number of the update being made.
 */
export interface ScheduleSpec {
  readonly steps: number
  readonly learningRate: number
  readonly warmupSteps: number
  readonly minLrRatio: number
}

export const learningRateAt = (spec: ScheduleSpec, step: number): number => {
  const { steps, learningRate: lr, warmupSteps, minLrRatio } = spec
  if (step <= warmupSteps) return (lr * step) / warmupSteps
  if (steps <= warmupSteps) return lr * minLrRatio
  const progress = Math.min(1, (step - warmupSteps) / (steps - warmupSteps)) // (0, 1]
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress)) // 1 -> 0
  return lr * (minLrRatio + (1 - minLrRatio) * cosine)
}
