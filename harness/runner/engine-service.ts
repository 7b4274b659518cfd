/**
 * The tensor engine as an Effect service: the backend is chosen once per process (kernel overrides and
 * thread pools are process-global), and what actually ran is recorded with every result.
 */
import { Context, Effect, Layer } from "effect"
import { initEngine, type BackendRequest, type EngineInfo } from "../../models/engine/index.js"
import { UsageError } from "../errors.js"

export class Engine extends Context.Service<Engine, EngineInfo>()("fope-harness/Engine") {
  static readonly layer = (backend: BackendRequest, threads?: number) =>
    Layer.effect(
      Engine,
      Effect.tryPromise({
        try: () => initEngine(threads === undefined ? { backend } : { backend, threads }),
        catch: (e) => new UsageError({ message: (e as Error).message })
      })
    )
}
