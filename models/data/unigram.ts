/**
 * Unigram baselines: the loss a model that ignores context entirely would get. A trained language model must
 * beat these clearly, or it has learned nothing about context (a sanity check on every trained model).
 */

const counts = (tokens: ArrayLike<number>, vocabSize: number): Float64Array => {
  const c = new Float64Array(vocabSize)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t < 0 || t >= vocabSize) throw new RangeError(`token ${t} at index ${i} is outside the vocabulary 0..${vocabSize - 1}`)
    c[t]! += 1
  }
  return c
}

const maxToken = (tokens: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < tokens.length; i++) if (tokens[i]! > m) m = tokens[i]!
  return m
}

/**
 * Entropy in nats of the empirical unigram distribution of `tokens`: H = -sum_v p_v ln p_v.
 * The loss of the best context-free model evaluated on the same tokens it was fitted to.
 */
export const unigramEntropy = (tokens: ArrayLike<number>): number => {
  if (tokens.length === 0) throw new RangeError("unigramEntropy of an empty token stream is undefined")
  const c = counts(tokens, maxToken(tokens) + 1)
  const n = tokens.length
  let h = 0
  for (const k of c) if (k > 0) h -= (k / n) * Math.log(k / n)
  return h
}

/**
 * Cross-entropy in nats per token of `evaluated` under the unigram distribution fitted to `fitted` with add-`alpha`
 * (Laplace) smoothing over the whole vocabulary: p_v = (count_v + alpha) / (N + alpha V).
 * This is the honest baseline for a validation loss (fitted on train, scored on valid).
 */
export const unigramCrossEntropy = (fitted: ArrayLike<number>, evaluated: ArrayLike<number>, vocabSize: number, alpha = 1): number => {
  if (evaluated.length === 0) throw new RangeError("unigramCrossEntropy needs a non-empty evaluated stream")
  const c = counts(fitted, vocabSize)
  const denominator = fitted.length + alpha * vocabSize
  let total = 0
  for (let i = 0; i < evaluated.length; i++) {
    const t = evaluated[i]!
    if (t < 0 || t >= vocabSize) throw new RangeError(`token ${t} at index ${i} is outside the vocabulary 0..${vocabSize - 1}`)
    total -= Math.log((c[t]! + alpha) / denominator)
  }
  return total / evaluated.length
}
