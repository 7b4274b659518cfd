/**
 * Micro-benchmark of the position embeddings: tinybench times forward + backward of each
 * method's hook(s) at T = 128, 512, 2048, with tables built beforehand, so that FoPE vs RoPE compares the
 * per-token cost (FoPE's tables have the same shape per head as RoPE's; position-embeddings.md, "FoPE", step 8).
 *
 * What one timed call does, per family (one [1, H, T, hd] batch, H = 8, hd = 32 by default):
 *   - rotary (rope, fope, xpos, p-rope): q' , k' = queryKey(q, k); loss = sum(q' * k'); gradients w.r.t. q, k
 *     (and trainable coefficients). `nope` runs the same loss without a hook: the floor of this harness.
 *   - bias (alibi, kerple-*, fire, t5): p = softmax(S + bias + causal mask) for logits S [1, H, T, T];
 *     loss = sum(p^2); gradients w.r.t. S and the method's parameters.
 *   - input (sinusoidal, learned): y = x + input(T) for x [1, T, dModel]; loss = sum(y^2); gradients w.r.t. x
 *     and the method's parameters.
 *   - attention (fox, stick-breaking): for logits S [1, H, T, T] and an attention input h [1, T, dModel],
 *     p = softmax(S + causal mask + inputBias(h)) (FoX) or p = normalise(S) (stick-breaking, no softmax);
 *     loss = sum(p^2); gradients w.r.t. S, h and the method's parameters. Like the bias family, it times the work
 *     the mechanism does on the scores (FoX's optional rotation is not included).
 * Every method's time is also given as a ratio to RoPE's at the same T, from the same run. The cells are timed in
 * interleaved rounds (every method once per round) and each reports the median of its round means.
 * So the FoPE/RoPE ratio compares like with like; ALiBi/RoPE compares a bias + softmax with a rotation (as the
 * issue asks), which is not the same work: read it as "what each hook adds", not as attention cost.
 *
 * Also measured: the memory (MB) and time of building FoPE's tables for 16x the training length for every layer
 * of the largest CPU scale (models/scales.ts).
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import { Bench } from "tinybench"
import { FireParams } from "../../embeddings/fire.js"
import type { PositionEmbedding } from "../../embeddings/interface.js"
import { createEmbedding, listEmbeddings } from "../../embeddings/registry.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import type { MetricRecord } from "../../ledger/types.js"
import { type BackendRequest, type EngineInfo, initEngine } from "../../models/engine/index.js"
import { SCALES, type ScaleConfig } from "../../models/scales.js"

export interface EmbeddingMicrobenchOptions {
  /** default [128, 512, 2048] */
  readonly lengths?: ReadonlyArray<number>
  /** default: every registered method */
  readonly methods?: ReadonlyArray<string>
  /** shorter timing windows (about 0.25 s per task instead of 1 s) */
  readonly quick?: boolean
  /** interleaved timing rounds (default 3, 1 with quick): each cell reports the median of its round means */
  readonly rounds?: number
  /** default "wasm" (the tuned engine of models/engine) */
  readonly backend?: BackendRequest
  readonly threads?: number
  /** model shape of the timed hooks: default 8 heads of 32 (the `mini` scale's attention) */
  readonly heads?: number
  readonly headDim?: number
  /** the embeddings' training length L (FoPE's floor clip depends on it); default 256 */
  readonly trainLength?: number
  /** skip a (method, T) whose estimated peak exceeds this many float32 elements (default 2^28 = 1 GB) */
  readonly maxElements?: number
  /** the FoPE table-memory measurement: scale (default: the largest CPU scale), training length (default 256), multiple (16) */
  readonly memory?: { readonly scale?: string; readonly trainLength?: number; readonly multiple?: number } | false
  readonly seed?: number
  readonly onProgress?: (line: string) => void
}

export interface MicrobenchRow {
  readonly method: string
  readonly length: number
  /** latency of one forward + backward, ms: the median over the rounds of each round's mean */
  readonly meanMs: number
  /** spread of the round means, percent: half their range over their median (0 with one round) */
  readonly rme: number
  readonly samples: number
}

export interface MicrobenchRatio {
  readonly length: number
  readonly fopeOverRope: number | null
  readonly alibiOverRope: number | null
  /** every timed method's mean over RoPE's at this T (RoPE itself omitted) */
  readonly overRope: Readonly<Record<string, number>>
}

export interface FopeTableMemory {
  readonly scale: string
  readonly dModel: number
  readonly heads: number
  readonly headDim: number
  readonly layers: number
  readonly trainLength: number
  readonly length: number
  /** bytes held by the cached C and S tables of every layer, in MB (2^20 bytes) */
  readonly megabytes: number
  /** wall time of building them, ms */
  readonly buildMs: number
}

export interface EmbeddingMicrobenchResult {
  readonly engine: EngineInfo
  readonly rows: ReadonlyArray<MicrobenchRow>
  readonly skipped: ReadonlyArray<{ readonly method: string; readonly length: number; readonly reason: string }>
  readonly ratios: ReadonlyArray<MicrobenchRatio>
  readonly memory: FopeTableMemory | null
  readonly metrics: ReadonlyArray<MetricRecord>
  /** the rows, ratios and skipped cells as a plain-text table (the memory figure is in `memory`) */
  readonly table: string
}

/** The largest CPU scale: most attention state per token (dModel x layers) among the scales not marked gpuOnly. */
export const largestCpuScale = (): ScaleConfig => {
  const cpu = Object.values(SCALES).filter((s) => !s.gpuOnly)
  return cpu.reduce((a, b) => (b.dModel * b.layers > a.dModel * a.layers ? b : a))
}

const seeded = (shape: number[], seed: number, purpose: string): tf.Tensor => {
  const rng = SeededRandom.create(seed, purpose)
  return tf.tensor(
    rng.fill(
      shape.reduce((a, b) => a * b, 1),
      (r) => r.normal()
    ),
    shape
  )
}

/** Rough peak float32 elements of one timed call (forward + backward), to skip what cannot fit. */
const estimatedElements = (e: PositionEmbedding, T: number, H: number, hd: number): number => {
  if (e.family === "attention") return T * T * 12 * H
  if (e.family === "bias") {
    const width = e.name === "fire" ? Schema.decodeUnknownSync(FireParams)(e.params).width : 0
    return T * T * (6 * H + 3 * width)
  }
  return 8 * H * T * hd
}

const medianOf = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One timed call and what it holds: built once, tables warmed, disposed after. */
interface Workload {
  readonly run: () => void
  readonly dispose: () => void
}

const workload = (e: PositionEmbedding, T: number, seed: number): Workload => {
  const { heads: H, headDim: hd, dModel } = e.shape
  const owned: tf.Tensor[] = []
  const variable = (shape: number[], purpose: string): tf.Variable => {
    const init = seeded(shape, seed, purpose)
    const v = tf.variable(init, true)
    init.dispose()
    owned.push(v)
    return v
  }
  let loss: () => tf.Scalar
  let vars: tf.Variable[]
  if (e.family === "attention") {
    const S = variable([1, H, T, T], "bench/logits") // [1, H, T, T]
    const h = variable([1, T, dModel], "bench/h") // [1, T, dModel]
    const maskValues = new Float32Array(T * T)
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskValues[i * T + j] = -1e9
    const mask = tf.tensor2d(maskValues, [T, T]) // [T, T]
    owned.push(mask)
    loss = () => {
      const logits = S as unknown as tf.Tensor4D
      if (e.normalise) return tf.sum(tf.square(e.normalise(logits, 0, 0)))
      const bias = e.inputBias!(h as unknown as tf.Tensor3D, 0)(0, T) // [1, H, T, T]
      return tf.sum(tf.square(tf.softmax(tf.add(tf.add(logits, mask), bias), -1)))
    }
    vars = [S, h, ...e.trainable]
  } else if (e.family === "bias") {
    const S = variable([1, H, T, T], "bench/logits") // [1, H, T, T]
    const maskValues = new Float32Array(T * T)
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskValues[i * T + j] = -1e9
    const mask = tf.tensor2d(maskValues, [T, T]) // [T, T]
    owned.push(mask)
    loss = () => tf.sum(tf.square(tf.softmax(tf.add(tf.add(S, e.scoreBias!(T, 0)), mask), -1)))
    vars = [S, ...e.trainable]
  } else if (e.family === "input") {
    const x = variable([1, T, dModel], "bench/x") // [1, T, dModel]
    loss = () => tf.sum(tf.square(tf.add(x, e.input!(T))))
    vars = [x, ...e.trainable]
  } else {
    const q = variable([1, H, T, hd], "bench/q") // [1, H, T, hd]
    const k = variable([1, H, T, hd], "bench/k")
    loss = () => {
      const [qq, kk] = e.queryKey ? e.queryKey(q as unknown as tf.Tensor4D, k as unknown as tf.Tensor4D, 0) : [q, k]
      return tf.sum(tf.mul(qq, kk))
    }
    vars = [q, k, ...e.trainable]
  }
  const run = (): void => {
    const { value, grads } = tf.variableGrads(loss, vars)
    // read one number so that lazy backends finish the work inside the timed call
    value.dataSync()
    tf.dispose([value, ...Object.values(grads)])
  }
  return { run, dispose: () => tf.dispose(owned) }
}

/** FoPE's cached tables for `multiple` x L at every layer of `scale`: MB held and build time. */
export const measureFopeTableMemory = (scale: ScaleConfig, trainLength: number, multiple: number, seed = 0): FopeTableMemory => {
  const headDim = scale.dModel / scale.heads
  const e = createEmbedding(
    { name: "fope", params: {} },
    { dModel: scale.dModel, heads: scale.heads, headDim, layers: scale.layers, trainLength },
    seed
  )
  const T = multiple * trainLength
  const probe = tf.zeros([1, scale.heads, T, headDim]) as tf.Tensor4D // a q/k of the eval length
  const before = tf.memory().numBytes
  const start = performance.now()
  for (let layer = 0; layer < scale.layers; layer++) {
    tf.tidy(() => {
      e.queryKey!(probe, probe, layer)[0].dataSync()
    })
  }
  const buildMs = performance.now() - start
  const megabytes = (tf.memory().numBytes - before) / 2 ** 20
  probe.dispose()
  e.dispose()
  return {
    scale: scale.name,
    dModel: scale.dModel,
    heads: scale.heads,
    headDim,
    layers: scale.layers,
    trainLength,
    length: T,
    megabytes,
    buildMs
  }
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length))

const renderTable = (
  rows: ReadonlyArray<MicrobenchRow>,
  ratios: ReadonlyArray<MicrobenchRatio>,
  lengths: ReadonlyArray<number>
): string => {
  const methods = [...new Set(rows.map((r) => r.method))]
  // the first column fits the longest label ("stick-breaking/rope") so names never run into the numbers
  const first = Math.max(8, ...methods.map((m) => `${m}/rope`.length)) + 2
  const header = pad("method", first) + lengths.map((T) => pad(`T=${T} ms (spread%, n)`, 26)).join("")
  const lines = [header]
  for (const m of methods) {
    lines.push(
      pad(m, first) +
        lengths
          .map((T) => {
            const r = rows.find((x) => x.method === m && x.length === T)
            return pad(r ? `${r.meanMs.toFixed(3)} (${r.rme.toFixed(1)}, ${r.samples})` : "skipped", 26)
          })
          .join("")
    )
  }
  const ratio = (x: number | null) => (x === null ? "-" : x.toFixed(3))
  for (const m of methods.filter((x) => x !== "rope")) {
    lines.push(
      pad(`${m}/rope`, first) + lengths.map((T) => pad(ratio(ratios.find((r) => r.length === T)?.overRope[m] ?? null), 26)).join("")
    )
  }
  return lines.join("\n")
}

export const runEmbeddingMicrobench = async (options: EmbeddingMicrobenchOptions = {}): Promise<EmbeddingMicrobenchResult> => {
  const lengths = options.lengths ?? [128, 512, 2048]
  const methods = options.methods ?? listEmbeddings().map((m) => m.name)
  const heads = options.heads ?? 8
  const headDim = options.headDim ?? 32
  const trainLength = options.trainLength ?? 256
  const seed = options.seed ?? 0
  const maxElements = options.maxElements ?? 2 ** 28
  const log = options.onProgress ?? (() => {})
  const engine = await initEngine({
    backend: options.backend ?? "wasm",
    ...(options.threads !== undefined ? { threads: options.threads } : {})
  })
  log(`engine: ${engine.backend}, threads ${engine.threads}, overrides ${engine.kernelOverrides.join(", ") || "none"}`)

  // Interleaved rounds: every (method, T) is timed once per round, and a round visits every method before the next
  // round starts; each cell reports the median of its round means. A burst of other load then lands on several
  // methods' windows instead of inflating one of them, so the ratios to RoPE stay comparable on a shared machine.
  const rounds = options.rounds ?? (options.quick ? 1 : 3)
  const timing = options.quick
    ? { time: 250, iterations: 5, warmupTime: 50, warmupIterations: 2 }
    : { time: Math.ceil(1000 / rounds), iterations: 5, warmupTime: 100, warmupIterations: 3 }
  const shape = { dModel: heads * headDim, heads, headDim, layers: 1, trainLength }
  const skipped: Array<{ method: string; length: number; reason: string }> = []
  const perCell = new Map<string, Array<{ readonly meanMs: number; readonly samples: number }>>()
  const failed = new Set<string>()

  for (let round = 0; round < rounds; round++) {
    for (const method of methods) {
      for (const T of lengths) {
        const cell = `${method}@${T}`
        if (failed.has(cell)) continue
        // learned absolute: its table size is part of the method; give it a table as long as the benchmark length
        const needsTable = method === "learned" && T > trainLength
        const emb = createEmbedding({ name: method, params: needsTable ? { tableLength: T } : {} }, shape, seed)
        const elements = estimatedElements(emb, T, heads, headDim)
        if (elements > maxElements) {
          skipped.push({
            method,
            length: T,
            reason: `about ${((elements * 4) / 2 ** 20).toFixed(0)} MB per call, over the ${((maxElements * 4) / 2 ** 20).toFixed(0)} MB limit (maxElements)`
          })
          log(`${method} T=${T}: skipped (memory)`)
          failed.add(cell)
          emb.dispose()
          continue
        }
        const w = workload(emb, T, seed)
        w.run() // builds and caches the tables outside the timed calls
        const bench = new Bench({ name: cell, ...timing })
        bench.add(cell, w.run, { async: false })
        await bench.run()
        const result = bench.tasks[0]!.result
        if (result.state === "completed" || result.state === "aborted-with-statistics") {
          perCell.set(cell, [...(perCell.get(cell) ?? []), { meanMs: result.latency.mean, samples: result.latency.samplesCount }])
          log(
            `${method} T=${T}${rounds > 1 ? ` round ${round + 1}/${rounds}` : ""}: ${result.latency.mean.toFixed(3)} ms (${result.latency.samplesCount})`
          )
        } else {
          const reason = result.state === "errored" ? String(result.error) : result.state
          skipped.push({ method, length: T, reason })
          failed.add(cell)
          log(`${method} T=${T}: ${reason}`)
        }
        w.dispose()
        emb.dispose()
      }
    }
  }

  const rows: MicrobenchRow[] = []
  for (const method of methods) {
    for (const T of lengths) {
      const cell = `${method}@${T}`
      const means = (perCell.get(cell) ?? []).map((r) => r.meanMs)
      if (failed.has(cell) || means.length === 0) continue
      const median = medianOf(means)
      rows.push({
        method,
        length: T,
        meanMs: median,
        // half the range of the round means, relative to their median (one round: 0, no spread to show)
        rme: means.length > 1 ? ((Math.max(...means) - Math.min(...means)) / 2 / median) * 100 : 0,
        samples: perCell.get(cell)!.reduce((n, r) => n + r.samples, 0)
      })
    }
  }

  const mean = (m: string, T: number) => rows.find((r) => r.method === m && r.length === T)?.meanMs
  const ratioOf = (a: string, b: string, T: number): number | null => {
    const x = mean(a, T)
    const y = mean(b, T)
    return x === undefined || y === undefined ? null : x / y
  }
  const ratios = lengths.map((T) => ({
    length: T,
    fopeOverRope: ratioOf("fope", "rope", T),
    alibiOverRope: ratioOf("alibi", "rope", T),
    overRope: Object.fromEntries(
      methods
        .filter((m) => m !== "rope")
        .flatMap((m) => {
          const r = ratioOf(m, "rope", T)
          return r === null ? [] : [[m, r] as const]
        })
    )
  }))

  let memory: FopeTableMemory | null = null
  if (options.memory !== false) {
    const m = options.memory ?? {}
    const scale = m.scale ? SCALES[m.scale] : largestCpuScale()
    if (!scale) throw new Error(`unknown scale "${m.scale}". Valid scales: ${Object.keys(SCALES).join(", ")}`)
    memory = measureFopeTableMemory(scale, m.trainLength ?? 256, m.multiple ?? 16, seed)
    log(
      `FoPE tables, ${memory.scale} (${memory.layers} layers, ${memory.heads} heads, hd ${memory.headDim}) at T=${memory.length}: ${memory.megabytes.toFixed(2)} MB, ${memory.buildMs.toFixed(0)} ms`
    )
  }

  const metrics: MetricRecord[] = [
    ...rows.map((r) => ({ name: `time_ms.${r.method}`, value: r.meanMs, unit: "ms", better: "lower" as const, length: r.length })),
    ...ratios.flatMap((r) => [
      ...(r.fopeOverRope === null
        ? []
        : [{ name: "ratio.fope_over_rope", value: r.fopeOverRope, unit: "x", better: "lower" as const, length: r.length }]),
      ...(r.alibiOverRope === null
        ? []
        : [{ name: "ratio.alibi_over_rope", value: r.alibiOverRope, unit: "x", better: "none" as const, length: r.length }]),
      // the other methods against RoPE from the same run (fope and alibi keep their names above)
      ...Object.entries(r.overRope)
        .filter(([m]) => m !== "fope" && m !== "alibi")
        .map(([m, value]) => ({ name: `ratio.${m}_over_rope`, value, unit: "x", better: "none" as const, length: r.length }))
    ]),
    ...(memory
      ? [
          { name: "memory_mb.fope_tables", value: memory.megabytes, unit: "MB", better: "lower" as const, length: memory.length },
          { name: "time_ms.fope_tables_build", value: memory.buildMs, unit: "ms", better: "lower" as const, length: memory.length }
        ]
      : [])
  ]
  const skippedLines = skipped.map((s) => `\nskipped ${s.method} T=${s.length}: ${s.reason}`).join("")
  return { engine, rows, skipped, ratios, memory, metrics, table: renderTable(rows, ratios, lengths) + skippedLines }
}

/** `node dist/harness/bench/embedding-microbench.js [--quick] [--backend wasm|cpu] [--lengths 128,512]` */
const isMain = (): boolean => {
  const argv1 = process.argv[1]
  return argv1 !== undefined && import.meta.url === new URL(`file://${argv1}`).href
}

if (isMain()) {
  const args = process.argv.slice(2)
  const value = (flag: string) => {
    const i = args.indexOf(flag)
    return i >= 0 ? args[i + 1] : undefined
  }
  const lengths = value("--lengths")?.split(",").map(Number)
  const methods = value("--methods")?.split(",")
  const result = await runEmbeddingMicrobench({
    quick: args.includes("--quick"),
    backend: (value("--backend") as BackendRequest | undefined) ?? "wasm",
    ...(lengths ? { lengths } : {}),
    ...(methods ? { methods } : {}),
    onProgress: (line) => console.error(line)
  })
  console.log(result.table)
  const m = result.memory
  if (m)
    console.log(
      `FoPE tables for T = ${m.length} (${m.length / m.trainLength} x L = ${m.trainLength}), all ${m.layers} layers of "${m.scale}" (d ${m.dModel}, ${m.heads} heads, hd ${m.headDim}): ${m.megabytes.toFixed(2)} MB, built in ${m.buildMs.toFixed(0)} ms`
    )
  if (args.includes("--json"))
    console.log(JSON.stringify({ rows: result.rows, ratios: result.ratios, memory: result.memory, metrics: result.metrics }, null, 2))
  // the wasm backend's thread workers keep the event loop alive: exit explicitly
  process.exit(0)
}
