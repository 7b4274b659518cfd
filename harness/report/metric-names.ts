/**
 * The runner's metric names (harness/runner/evaluate-job.ts), parsed into what a report needs to group them:
 *   perplexity | val_loss | eval_tokens, optionally with an inference-time extension suffix ("perplexity@yarn"),
 *   loss_at_position_<from>, passkey_accuracy, spectrum_damage, spectrum_damage_layer<i>, train_loss, and scalars
 *   such as train_tokens_per_s, train_seconds, eval_seconds.
 */

export type ParsedMetricName =
  | { readonly kind: "perplexity" | "val_loss" | "eval_tokens"; readonly extension: string | null }
  | { readonly kind: "loss_at_position"; readonly from: number }
  | { readonly kind: "passkey_accuracy" }
  | { readonly kind: "spectrum_damage"; readonly layer: number | null }
  | { readonly kind: "train_loss" }
  | { readonly kind: "scalar"; readonly name: string }

export const parseMetricName = (name: string): ParsedMetricName => {
  const evalMatch = /^(perplexity|val_loss|eval_tokens)(?:@(.+))?$/.exec(name)
  if (evalMatch) {
    const kind = evalMatch[1] as "perplexity" | "val_loss" | "eval_tokens"
    return { kind, extension: evalMatch[2] ?? null }
  }
  const position = /^loss_at_position_(\d+)$/.exec(name)
  if (position) return { kind: "loss_at_position", from: Number(position[1]) }
  if (name === "passkey_accuracy") return { kind: "passkey_accuracy" }
  if (name === "spectrum_damage") return { kind: "spectrum_damage", layer: null }
  const layer = /^spectrum_damage_layer(\d+)$/.exec(name)
  if (layer) return { kind: "spectrum_damage", layer: Number(layer[1]) }
  if (name === "train_loss") return { kind: "train_loss" }
  return { kind: "scalar", name }
}
