/**
 * A cache of tensors that do not depend on trainable variables (RoPE's cos/sin for a length, ALiBi's bias
 * matrix, ...), keyed by a string such as `layer3/T512`. Entries are built once, `tf.keep`-ed so that the
 * caller's `tf.tidy` does not free them, and freed by `dispose()` (interface.ts, "Memory contract").
 */
import * as tf from "@tensorflow/tfjs"

export class TableCache<V extends object> {
  private readonly entries = new Map<string, V>()

  /** The entry for `key`, built with `build` (inside its own tidy) the first time it is asked for. */
  get(key: string, build: () => V): V {
    const found = this.entries.get(key)
    if (found !== undefined) return found
    const value = tf.tidy(() => build() as unknown as tf.TensorContainer) as unknown as V
    for (const t of tensorsOf(value)) tf.keep(t)
    this.entries.set(key, value)
    return value
  }

  get size(): number {
    return this.entries.size
  }

  /** Bytes held by the cached tensors (float32: 4 bytes per element). */
  bytes(): number {
    let total = 0
    for (const v of this.entries.values()) for (const t of tensorsOf(v)) total += t.size * 4
    return total
  }

  dispose(): void {
    for (const v of this.entries.values()) for (const t of tensorsOf(v)) t.dispose()
    this.entries.clear()
  }
}

const tensorsOf = (value: unknown): tf.Tensor[] => {
  if (value instanceof tf.Tensor) return [value]
  if (value === null || value === undefined || typeof value !== "object") return []
  const out: tf.Tensor[] = []
  for (const v of Object.values(value as Record<string, unknown>)) out.push(...tensorsOf(v))
  return out
}
