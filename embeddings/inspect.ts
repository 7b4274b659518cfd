/**
 * `harness inspect`: what a researcher looks at to understand a method, and what lets anyone check it
 * against another implementation. A plain JSON-able object (full float32 precision as JS numbers):
 * resolved params, kept and clipped frequencies, coefficients or learned parameters at init, and for length T
 * the cos/sin tables (rotary family, read back through the queryKey hook itself), the bias matrix (bias family)
 * or the input signal (input family); for the attention family, the input-dependent bias of a seeded probe input
 * and the weights its normalisation gives to all-zero logits. `renderInspection` gives a readable summary.
 */
import * as tf from "@tensorflow/tfjs"
import type { ExtensionSpec, PositionEmbedding, SpectrumDescription } from "./interface.js"
import { createEmbedding } from "./registry.js"
import { SeededRandom } from "./seeded-random.js"
import { statsOf, type TensorStats } from "./tensor-stats.js"

export interface InspectOptions {
  readonly name: string
  readonly params?: Readonly<Record<string, unknown>>
  readonly headDim: number
  readonly heads: number
  readonly trainLength: number
  /** the length T of the tables / bias matrix */
  readonly length: number
  readonly seed: number
  readonly layers?: number
  /** inspect an inference-time extension view (rotary family) */
  readonly extension?: ExtensionSpec
  /**
   * the extension's target length L' (its scale s = L'/L); default `length`. The tables are always for the
   * current length `length`, which is what dynamic NTK's base follows
   */
  readonly evalLength?: number
}

export interface NamedArray {
  readonly shape: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
  readonly stats: TensorStats
}

/** cos / sin of one layer, per head and position, the d/2 pair values: [H][T][d/2]. */
export interface RotaryTableDump {
  readonly cos: number[][][]
  readonly sin: number[][][]
}

export interface Inspection {
  readonly name: string
  readonly family: string
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: {
    readonly dModel: number
    readonly heads: number
    readonly headDim: number
    readonly layers: number
    readonly trainLength: number
  }
  readonly seed: number
  readonly length: number
  readonly extension: ExtensionSpec
  /** the extension's target length L' (= length when not given) */
  readonly evalLength: number
  readonly spectrum: SpectrumDescription
  /** fixed tensors (FoPE's coefficients) in full */
  readonly fixed: Readonly<Record<string, NamedArray>>
  /** trainable parameters at init in full */
  readonly trainable: Readonly<Record<string, NamedArray>>
  readonly maxLength: number | null
  /** rotary family: per layer, q's tables and k's (k omitted when equal to q's) */
  readonly rotaryTables?: ReadonlyArray<{ readonly layer: number; readonly q: RotaryTableDump; readonly k?: RotaryTableDump }>
  /** bias family: per layer, [H][T][T] (only j <= i is used) */
  readonly bias?: ReadonlyArray<{ readonly layer: number; readonly values: number[][][] }>
  /**
   * attention family, per layer, head 0 of batch row 0: `bias` [T][T] from a seeded standard-normal attention input
   * (inputBias), `weights` [T][T] that the method's normalisation gives to all-zero logits (normalise)
   */
  readonly attention?: ReadonlyArray<{ readonly layer: number; readonly bias?: number[][]; readonly weights?: number[][] }>
  /** input family: [T][dModel] */
  readonly input?: number[][]
  /** why a table could not be given (e.g. learned absolute beyond its table) */
  readonly notApplicable?: string
}

const namedArray = (t: tf.Tensor): NamedArray => {
  const values = Array.from(t.dataSync() as Float32Array)
  return { shape: [...t.shape], values, stats: statsOf(values, t.shape) }
}

/**
 * The cos / sin tables a rotary hook applies, read back through the hook: a probe with ones in the first half of
 * the head and zeros in the second gives `x' = x*C + rot(x)*S = [C[:d/2], S[d/2:]]` (rot(x) = [0, 1]), and the
 * tables repeat their d/2 pair values twice. Returns q's and k's tables [H][T][d/2].
 */
export const probeRotaryTables = (embedding: PositionEmbedding, T: number, layer: number): { q: RotaryTableDump; k: RotaryTableDump } => {
  const { heads: H, headDim: d } = embedding.shape
  const half = d / 2
  // Read inside the tidy into a closure variable: tidy returns nothing, so it never walks large JS arrays.
  let q: number[][][] = []
  let k: number[][][] = []
  tf.tidy(() => {
    const probe = tf.tile(tf.concat([tf.ones([1, H, 1, half]), tf.zeros([1, H, 1, half])], 3), [1, 1, T, 1]) as tf.Tensor4D // [1, H, T, d]
    const [qq, kk] = embedding.queryKey!(probe, probe, layer) // [1, H, T, d] each
    q = qq.arraySync()[0]!
    k = kk.arraySync()[0]!
  })
  const split = (x: number[][][]): RotaryTableDump => ({
    cos: x.map((head) => head.map((row) => row.slice(0, half))),
    sin: x.map((head) => head.map((row) => row.slice(half)))
  })
  return { q: split(q), k: split(k) }
}

/** The values of what `make` returns, read inside a tidy (which frees the temporaries and keeps cached tables). */
const readInTidy = <T>(make: () => { arraySync(): T }): T => {
  let out: T | undefined
  tf.tidy(() => {
    out = make().arraySync()
  })
  return out as T
}

const sameTables = (a: RotaryTableDump, b: RotaryTableDump): boolean => JSON.stringify(a) === JSON.stringify(b)

export const inspectEmbedding = (options: InspectOptions): Inspection => {
  const layers = options.layers ?? 1
  const shape = {
    dModel: options.headDim * options.heads,
    heads: options.heads,
    headDim: options.headDim,
    layers,
    trainLength: options.trainLength
  }
  const owner = createEmbedding({ name: options.name, params: options.params ?? {} }, shape, options.seed)
  const extension = options.extension ?? { method: "none" }
  const evalLength = options.evalLength ?? options.length
  const embedding = extension.method === "none" ? owner : owner.extend(extension, evalLength)
  try {
    const T = options.length
    const names = owner.trainableNames ?? owner.trainable.map((_, i) => `trainable${i}`)
    const base = {
      name: owner.name,
      family: owner.family,
      params: owner.params,
      shape,
      seed: options.seed,
      length: T,
      extension,
      evalLength,
      spectrum: embedding.describeSpectrum(),
      fixed: Object.fromEntries(Object.entries(owner.fixed).map(([n, t]) => [n, namedArray(t)])),
      trainable: Object.fromEntries(owner.trainable.map((v, i) => [names[i]!, namedArray(v)])),
      maxLength: owner.maxLength ?? null
    }
    const attention =
      embedding.inputBias || embedding.normalise
        ? Array.from({ length: layers }, (_, layer) => ({
            layer,
            ...(embedding.inputBias
              ? {
                  bias: readInTidy(() => {
                    const rng = SeededRandom.create(options.seed, "inspect/attention-input")
                    const h = tf.tensor3d(
                      rng.fill(T * shape.dModel, (r) => r.normal()),
                      [1, T, shape.dModel]
                    )
                    return embedding.inputBias!(h, layer)(0, T).slice([0, 0, 0, 0], [1, 1, T, T]).reshape([T, T])
                  }) as number[][]
                }
              : {}),
            ...(embedding.normalise
              ? {
                  weights: readInTidy(() =>
                    embedding.normalise!(tf.zeros([1, 1, T, T]) as tf.Tensor4D, 0, layer).reshape([T, T])
                  ) as number[][]
                }
              : {})
          }))
        : undefined
    if (attention && !embedding.queryKey) return { ...base, attention }
    if (embedding.queryKey) {
      const rotaryTables = Array.from({ length: layers }, (_, layer) => {
        const { q, k } = probeRotaryTables(embedding, T, layer)
        return sameTables(q, k) ? { layer, q } : { layer, q, k }
      })
      return { ...base, rotaryTables, ...(attention ? { attention } : {}) }
    }
    if (embedding.scoreBias) {
      const bias = Array.from({ length: layers }, (_, layer) => ({
        layer,
        values: readInTidy(() => embedding.scoreBias!(T, layer))
      }))
      return { ...base, bias }
    }
    if (embedding.input) {
      if (embedding.maxLength !== undefined && T > embedding.maxLength) {
        return { ...base, notApplicable: `${owner.name} has values up to length ${embedding.maxLength}; asked for ${T}` }
      }
      return { ...base, input: readInTidy(() => embedding.input!(T)) }
    }
    return base
  } finally {
    if (embedding !== owner) embedding.dispose()
    owner.dispose()
  }
}

const fmt = (x: number): string => (x === 0 ? "0" : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(4) : x.toFixed(6))
const fmtList = (xs: ReadonlyArray<number>, limit = 16): string =>
  `[${xs.slice(0, limit).map(fmt).join(", ")}${xs.length > limit ? `, ... (${xs.length} in all)` : ""}]`
const fmtStats = (s: TensorStats): string =>
  `shape [${s.shape.join(", ")}]  mean ${fmt(s.mean)}  std ${fmt(s.std)}  min ${fmt(s.min)}  max ${fmt(s.max)}`

/** A readable summary: frequencies, notes (K, dOut, ...), coefficient stats, a few table rows. */
export const renderInspection = (ins: Inspection, rows = 4): string => {
  const lines: string[] = []
  lines.push(`${ins.name} (${ins.family} family), seed ${ins.seed}`)
  lines.push(
    `  params: ${
      Object.entries(ins.params)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(" ") || "(none)"
    }`
  )
  const s = ins.shape
  lines.push(`  shape: headDim ${s.headDim}, heads ${s.heads}, layers ${s.layers}, trainLength ${s.trainLength}; length T = ${ins.length}`)
  if (ins.extension.method !== "none") {
    lines.push(
      `  extension: ${JSON.stringify(ins.extension)} for evaluation length ${ins.evalLength} (s = ${ins.evalLength}/${ins.shape.trainLength}), tables at current length ${ins.length}`
    )
  }
  if (ins.maxLength !== null) lines.push(`  maxLength: ${ins.maxLength}`)
  const sp = ins.spectrum
  if (sp.pairFrequencies.length > 0) {
    lines.push(`  pair frequencies (${sp.pairFrequencies.length}): ${fmtList(sp.pairFrequencies)}`)
    lines.push(`  kept (${sp.kept.length}): ${fmtList(sp.kept)}`)
    lines.push(`  clipped (${sp.clipped.length}): ${fmtList(sp.clipped)}`)
  }
  if (sp.notes)
    lines.push(
      `  notes: ${Object.entries(sp.notes)
        .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : String(v)}`)
        .join("  ")}`
    )
  for (const [group, named] of [
    ["fixed", ins.fixed],
    ["trainable", ins.trainable]
  ] as const) {
    const entries = Object.entries(named)
    if (entries.length === 0) continue
    lines.push(`  ${group}:`)
    for (const [n, a] of entries) lines.push(`    ${n}: ${fmtStats(a.stats)}`)
  }
  const showRows = (label: string, table: number[][]) => {
    lines.push(`    ${label}:`)
    const T = table.length
    const picks = T <= rows ? [...table.keys()] : [...Array.from({ length: rows - 1 }, (_, i) => i), T - 1]
    for (const t of picks) lines.push(`      t=${t}: ${fmtList(table[t]!, 8)}`)
  }
  for (const layer of ins.rotaryTables ?? []) {
    lines.push(`  layer ${layer.layer} tables (head 0, pair values; T = ${ins.length}):`)
    showRows("cos (q)", layer.q.cos[0]!)
    showRows("sin (q)", layer.q.sin[0]!)
    if (layer.k) {
      showRows("cos (k)", layer.k.cos[0]!)
      showRows("sin (k)", layer.k.sin[0]!)
    }
  }
  for (const layer of ins.bias ?? []) {
    lines.push(`  layer ${layer.layer} bias (head 0, row i, columns j <= i):`)
    const m = layer.values[0]!
    const T = m.length
    const picks = T <= rows ? [...m.keys()] : [...Array.from({ length: rows - 1 }, (_, i) => i), T - 1]
    for (const i of picks) lines.push(`      i=${i}: ${fmtList(m[i]!.slice(0, i + 1), 8)}`)
  }
  for (const layer of ins.attention ?? []) {
    for (const [label, m] of [
      ["input-dependent bias, seeded probe input", layer.bias],
      ["weights for zero logits", layer.weights]
    ] as const) {
      if (!m) continue
      lines.push(`  layer ${layer.layer} ${label} (head 0, row i, columns j <= i):`)
      const picks = m.length <= rows ? [...m.keys()] : [...Array.from({ length: rows - 1 }, (_, i) => i), m.length - 1]
      for (const i of picks) lines.push(`      i=${i}: ${fmtList(m[i]!.slice(0, i + 1), 8)}`)
    }
  }
  if (ins.input) showRows(`input signal [T, dModel]`, ins.input)
  if (ins.notApplicable) lines.push(`  not applicable: ${ins.notApplicable}`)
  return lines.join("\n")
}
