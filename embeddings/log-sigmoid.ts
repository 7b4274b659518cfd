/**
 * log sigmoid(x) = min(x, 0) - log(1 + exp(-|x|)), finite for every finite x, from primitive ops with standard
 * gradients. Not tf.logSigmoid: its custom gradient keeps a tensor that an enclosing tf.tidy frees before the
 * backward pass (a disposed-tensor error under tf.grad), and FoX and stick-breaking run inside such scopes.
 */
import * as tf from "@tensorflow/tfjs"

export const logSigmoid = <T extends tf.Tensor>(x: T): T =>
  tf.tidy(() => tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x))))) as T)
