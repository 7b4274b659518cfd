/**
 * Progress for long work: step, loss, tokens/s and ETA per job and for the suite.
 * On a TTY the status line is rewritten in place; otherwise (CI logs, pipes) it prints plain lines, at most
 * one every few seconds, so logs stay readable. Progress goes to stderr; results (tables) go to stdout.
 */
import { Context, Effect, Layer } from "effect"

export interface ProgressShape {
  /** a permanent line */
  readonly line: (text: string) => Effect.Effect<void>
  /** a transient status line (rewritten on a TTY, throttled plain lines otherwise) */
  readonly status: (text: string) => Effect.Effect<void>
  /** lines captured so far (only the capturing layer keeps them; for tests) */
  readonly captured: () => ReadonlyArray<string>
}

export class Progress extends Context.Service<Progress, ProgressShape>()("fope-harness/Progress") {
  /** stderr, TTY-aware */
  static readonly layer = Layer.sync(Progress, () => makeStreamProgress(process.stderr))
  /** keeps every line in memory; for tests */
  static readonly layerCapture = Layer.sync(Progress, () => {
    const lines: string[] = []
    return {
      line: (text) => Effect.sync(() => void lines.push(text)),
      status: (text) => Effect.sync(() => void lines.push(text)),
      captured: () => lines
    }
  })
}

/** Plain (non-TTY) status lines at most this often; HARNESS_PROGRESS_INTERVAL_MS overrides it (0 = every step). */
const PLAIN_INTERVAL_MS = (() => {
  const v = Number(process.env.HARNESS_PROGRESS_INTERVAL_MS)
  return Number.isFinite(v) && v >= 0 ? v : 5_000
})()

const makeStreamProgress = (stream: NodeJS.WriteStream): ProgressShape => {
  const tty = stream.isTTY === true
  let pending = false
  let lastPlain = 0
  const clear = () => {
    if (tty && pending) stream.write("\r\x1b[2K")
    pending = false
  }
  return {
    line: (text) =>
      Effect.sync(() => {
        clear()
        stream.write(`${text}\n`)
      }),
    status: (text) =>
      Effect.sync(() => {
        if (tty) {
          // a pseudo-terminal may report 0 columns: then assume a common width rather than cutting to nothing
          const columns = stream.columns !== undefined && stream.columns >= 40 ? stream.columns : 120
          const width = columns - 1
          stream.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`)
          pending = true
        } else {
          const now = Date.now()
          if (now - lastPlain >= PLAIN_INTERVAL_MS) {
            lastPlain = now
            stream.write(`${text}\n`)
          }
        }
      }),
    captured: () => []
  }
}

/** "1m 05s", "12s" */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "?"
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`
}
