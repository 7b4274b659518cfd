/** The loss (or the gradient norm) of a step was NaN or Infinity. Nothing was updated: the model and the optimizer
 * hold the values from before the step, so the job can record the failure with its step and stop cleanly. */
export class NonFiniteLossError extends Error {
  readonly _tag = "NonFiniteLossError"
  override readonly name = "NonFiniteLossError"
  constructor(
    /** the 1-based number of the step that failed */
    readonly step: number,
    /** the loss value (NaN, Infinity or -Infinity), or the finite loss when the gradient norm was not finite */
    readonly value: number,
    readonly quantity: "loss" | "gradient norm" = "loss",
    readonly gradNorm: number = NaN
  ) {
    super(
      `training step ${step}: ${quantity === "loss" ? `the loss is ${value}` : `the gradient norm is ${gradNorm} (loss ${value})`}; ` +
        `the step was not applied. Try a lower learning rate or a longer warmup, check the data for out-of-vocabulary ids, ` +
        `or resume from the last checkpoint with a smaller learning rate.`
    )
  }
}
