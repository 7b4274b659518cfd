/**
 * The tensor engine as an Effect service: the backend is chosen once per process (kernel overrides and
 * thread pools are process-global), and what actually ran is recorded with every result.
 */
import { Context, Effect, Layer } from "effect"
import { initEngine, type BackendRequest, type EngineInfo } from "../../models/engine/index.js"
import { UsageError } from "../errors.js"

export class Engine extends Context.Service<Engine, EngineInfo>()("fope-harness/Engine") {
  /** `native`: tuned wasm's matrix products on the native library (default: when its addon loads) or not */
  static readonly layer = (backend: BackendRequest, threads?: number, native?: boolean) =>
    Layer.effect(
      Engine,
      Effect.tryPromise({
        try: () => initEngine({ backend, ...(threads !== undefined ? { threads } : {}), ...(native !== undefined ? { native } : {}) }),
        catch: (e) => new UsageError({ message: (e as Error).message })
      })
    )
}
