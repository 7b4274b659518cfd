/**
 * A run's engine in words, from the environment its `run.begin` record holds: the backend line the Markdown
 * report prints, then what decides speed and reproducibility (tfjs version, SIMD, the matrix-product path, the
 * adapter, the CPU). The environment record is free-form JSON written by older and newer harnesses alike, so
 * every field is optional here.
 */
import { describeBackend } from "../ledger-input.js"

interface EngineRecord {
  readonly backend?: string
  readonly tfjsVersion?: string
  readonly simd?: boolean
  readonly deterministic?: boolean
  readonly kernelOverrides?: ReadonlyArray<string>
  readonly webgpu?: { readonly adapter?: { readonly description?: string; readonly software?: boolean } }
}

interface EnvironmentRecord {
  readonly node?: string
  readonly cpuModel?: string
  readonly cpuCount?: number
  readonly engine?: EngineRecord
}

export interface EngineDescription {
  /** e.g. "wasm (1 thread, tuned kernels)" */
  readonly headline: string
  /** e.g. ["tfjs 4.22.0", "SIMD", "products: BatchMatMul(simd gemm, fma)", "node v20.20.2"] */
  readonly details: ReadonlyArray<string>
}

const text = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null)

export const describeEngine = (environment: unknown): EngineDescription => {
  const env = (environment ?? {}) as EnvironmentRecord
  const engine = env.engine ?? {}
  const adapter = engine.webgpu?.adapter
  const products = engine.kernelOverrides?.find((k) => typeof k === "string" && k.startsWith("BatchMatMul"))
  const details = [
    text(engine.tfjsVersion) && `tfjs ${engine.tfjsVersion}`,
    engine.simd === true ? "SIMD" : null,
    engine.deterministic === true ? "bitwise reproducible" : engine.deterministic === false ? "reproducible within a tolerance" : null,
    products ? `products: ${products}` : null,
    text(adapter?.description) && `adapter: ${adapter!.description}${adapter!.software ? " (software)" : ""}`,
    text(env.node) && `node ${env.node}`,
    text(env.cpuModel) && `${env.cpuModel}${typeof env.cpuCount === "number" ? ` x ${env.cpuCount}` : ""}`
  ].filter((d): d is string => typeof d === "string")
  return { headline: describeBackend(environment), details }
}
