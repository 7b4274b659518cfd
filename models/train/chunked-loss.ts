/**
 * Mean softmax cross-entropy of a linear output layer, computed over chunks of positions so that the full
 * logits (N positions x V vocabulary) never exist at once — neither in the forward pass nor in the backward.
 *
 * Why: the FoPE paper's 60m step (batch 32 x 512 positions x GPT-2's 50,257 tokens) has 3.1 GiB of float32 logits,
 * past WebGPU's per-binding limit (often 2-4 GiB, 128 MiB on a software adapter) and past the wasm heap. Under
 * autodiff every chunk's logits would still be kept for the backward pass, so the gradient is written by hand
 * (tf.customGrad) and recomputes each chunk's logits instead (the "fused linear cross-entropy" trade: one more
 * [n, d] x [d, V] product per chunk, memory one chunk's logits).
 *
 * With z = h W (one chunk: h [n, d], W [d, V]), p = softmax(z), y = one-hot targets, N positions in all:
 *   loss   = (1/N) sum_rows ( logsumexp(z) - z[target] )
 *   dL/dz  = (p - y) / N            (the softmax cross-entropy gradient)
 *   dL/dh  = dL/dz W^T              dL/dW = sum over chunks of h^T dL/dz
 * Equal to the unchunked loss up to float rounding (a different summation order), gradients too (a test).
 */
import * as tf from "@tensorflow/tfjs"

/** h [N, d] float32, w [d, V], targets [N] int32 -> scalar mean cross-entropy (nats); `rows` positions per chunk. */
export const chunkedCrossEntropy = (h: tf.Tensor2D, w: tf.Tensor2D | tf.Variable, targets: tf.Tensor1D, rows: number): tf.Scalar => {
  const [N] = h.shape
  const V = w.shape[1]!
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`loss chunk must be a positive number of positions, got ${rows}`)
  if (targets.shape[0] !== N) throw new Error(`chunkedCrossEntropy: ${targets.shape[0]} targets for ${N} positions`)
  const starts: number[] = []
  for (let s = 0; s < N; s += rows) starts.push(s)
  const slice = (s: number) => Math.min(rows, N - s)
  // the target's logit picked by a one-hot product (y is reused in backward); targets are an input of the custom op
  // so that the engine keeps them alive until the backward pass (a caller's tidy would free them before)
  const oneHot = (t: tf.Tensor1D, s: number): tf.Tensor2D =>
    tf.cast(tf.oneHot(t.slice([s], [slice(s)]) as tf.Tensor1D, V), "float32") as tf.Tensor2D

  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [hh, ww, tt, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
    save([hh, ww, tt])
    let total: tf.Tensor = tf.scalar(0)
    for (const s of starts) {
      const next = tf.tidy(() => {
        const z = tf.matMul(hh.slice([s, 0], [slice(s), -1]), ww) // [n, V]
        const lse = tf.logSumExp(z, -1) // [n]
        const picked = tf.sum(tf.mul(z, oneHot(tt, s)), -1) // [n]
        return total.add(tf.sum(tf.sub(lse, picked)))
      })
      total.dispose()
      total = next
    }
    const value = tf.tidy(() => total.div(N)) as tf.Scalar
    total.dispose()
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [hs, ws, ts] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D]
      const scale = tf.div(dy, N) // scalar: upstream gradient over N
      const dh: tf.Tensor2D[] = []
      let dw: tf.Tensor2D = tf.zerosLike(ws)
      for (const s of starts) {
        const hc = hs.slice([s, 0], [slice(s), -1]) as tf.Tensor2D // [n, d]
        const dz = tf.tidy(() => tf.mul(tf.sub(tf.softmax(tf.matMul(hc, ws), -1), oneHot(ts, s)), scale)) as tf.Tensor2D // [n, V]
        dh.push(tf.matMul(dz, ws, false, true)) // [n, d]
        const nextDw = tf.add(dw, tf.matMul(hc, dz, true, false)) as tf.Tensor2D // [d, V]
        dw.dispose()
        dz.dispose()
        hc.dispose()
        dw = nextDw
      }
      const dhAll = dh.length === 1 ? dh[0]! : tf.concat(dh, 0)
      if (dh.length > 1) for (const t of dh) t.dispose()
      scale.dispose()
      return [dhAll, dw, tf.zeros(ts.shape, "float32")] // targets: no gradient (the engine wants a float32 one)
    }
    return { value, gradFunc }
  })
  return f(h, w, targets) as unknown as tf.Scalar
}
