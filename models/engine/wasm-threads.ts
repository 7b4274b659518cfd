/**
 * Multithreaded tfjs-backend-wasm in Node.
 *
 * PINNED: this relies on internals of @tensorflow/tfjs-backend-wasm 4.22.0 (dist/tf-backend-wasm.node.js),
 * which package.json pins exactly. If tfjs is upgraded, re-read that file and rerun
 * test/models/engine (the thread test reports what actually ran).
 *
 * Why a shim is needed (a known tfjs-backend-wasm limitation in Node):
 *  - the flag WASM_HAS_MULTITHREAD_SUPPORT is hard-coded `false` when IS_NODE, so the threaded-SIMD binary is
 *    never chosen: we set the flag to true ourselves;
 *  - the threaded build's Emscripten glue starts its pthreads with `new Worker(URL.createObjectURL(blob))` and
 *    tells each worker to `importScripts(mainScriptUrlOrBlob)` where that is also a Blob. Node's
 *    worker_threads.Worker cannot load `blob:` URLs, and the worker's `importScripts` reads files. So we capture
 *    the text of both blobs as they are built (a Blob subclass, only while the backend initialises), write them
 *    to temp files, and redirect the global `Worker` (which the glue sets to worker_threads.Worker) to a
 *    subclass that loads the temp worker file and rewrites the "load" message to the temp main-script path;
 *  - the stringified factory refers to bundle-level variables (require$$0 = fs, require$$1 = path,
 *    require$$3 = perf_hooks, require$$4 = os, commonjsGlobal, __dirname); the worker file defines them;
 *  - the C++ side sizes its pthreadpool from emscripten_num_logical_cores(), which the glue answers with
 *    `require("os").cpus().length`, and caps it at half of that: we make `os.cpus()` report enough cores while
 *    the backend initialises (the "core cap" lift), then restore it.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { Worker as NodeWorker, type WorkerOptions } from "node:worker_threads"

/** The CommonJS `os` module object itself (an ESM namespace is frozen): the glue calls its `cpus()`. */
const osModule: { cpus: () => os.CpuInfo[] } = createRequire(import.meta.url)("node:os")

const captured: { worker: string | null; main: string | null } = { worker: null, main: null }
let files: { worker: string; main: string } | null = null

const WORKER_PREAMBLE = [
  "// Written by fope-harness models/engine/wasm-threads.ts: a pthread worker for tfjs-backend-wasm 4.22.0",
  "// threaded-SIMD in Node. Defines the bundle-level names the stringified Emscripten factory refers to.",
  "globalThis.require$$0 = require('fs');",
  "globalThis.require$$1 = require('path');",
  "globalThis.require$$3 = require('perf_hooks');",
  "globalThis.require$$4 = require('os');",
  "globalThis.commonjsGlobal = globalThis;",
  "globalThis.__dirname = __dirname;",
  "globalThis.__filename = __filename;",
  ""
].join("\n")

/** Writes the captured scripts to a private temp folder (once per process). */
const ensureFiles = (): { worker: string; main: string } => {
  if (files !== null) return files
  if (captured.worker === null || captured.main === null) {
    throw new Error(
      "wasm threads: the threaded-SIMD worker or main script was not captured while the backend initialised " +
        "(tfjs-backend-wasm internals changed?). Use threads: 1, or re-check models/engine/wasm-threads.ts against the installed tfjs."
    )
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fope-tfjs-wasm-"))
  const worker = path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.cjs")
  const main = path.join(dir, "tfjs-backend-wasm-threaded-simd.main.js")
  fs.writeFileSync(worker, WORKER_PREAMBLE + captured.worker)
  fs.writeFileSync(main, captured.main)
  files = { worker, main }
  // The workers read both files once, while they load; remove the folder when this process ends.
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  return files
}

/** worker_threads.Worker that understands the Emscripten glue's blob: worker URL and Blob main script. */
class PthreadWorker extends NodeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    const target = String(url).startsWith("blob:") ? ensureFiles().worker : url
    super(target, options)
  }
  /**
   * Emscripten ref()s a worker while it runs a pthread; XNNPACK's pool threads run (parked) for the life of the
   * module, so a ref'd pool would keep Node from exiting after the work is done. Workers stay ref'd while they
   * load (from construction until Emscripten unref()s them on "loaded"), then never again.
   */
  override ref(): void {}

  override postMessage(message: unknown, transfer?: ReadonlyArray<any>): void {
    if (
      typeof message === "object" &&
      message !== null &&
      (message as { cmd?: unknown }).cmd === "load" &&
      typeof (message as { urlOrBlob?: unknown }).urlOrBlob !== "string"
    ) {
      message = { ...(message as object), urlOrBlob: ensureFiles().main }
    }
    super.postMessage(message, transfer as any)
  }
}

let workerRedirected = false
/** The glue does `commonjsGlobal.Worker = worker_threads.Worker`; keep answering with our subclass. */
const redirectWorker = (): void => {
  if (workerRedirected) return
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    enumerable: false,
    get: () => PthreadWorker,
    set: () => {
      /* ignored on purpose: see the file comment */
    }
  })
  workerRedirected = true
}

/**
 * Runs `init` (which must initialise the wasm backend) with the shims in place, then removes the temporary ones
 * (Blob capture, os.cpus). The Worker redirect stays: Emscripten may start more pthreads later.
 */
export const withThreadedWasmShims = async <A>(threads: number, init: () => Promise<A>): Promise<A> => {
  const OriginalBlob = globalThis.Blob
  const originalCpus = osModule.cpus
  class CapturingBlob extends OriginalBlob {
    constructor(parts?: ReadonlyArray<any>, options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts as any, options)
      if (parts?.every((p) => typeof p === "string")) {
        const text = parts.join("")
        if (text.startsWith("var WasmBackendModuleThreadedSimd")) captured.main = text
        else if (text.includes("ENVIRONMENT_IS_PTHREAD")) captured.worker = text
      }
    }
  }
  redirectWorker()
  ;(globalThis as any).Blob = CapturingBlob
  const realCount = originalCpus().length
  const reported = Math.max(realCount, 2 * threads)
  // The C++ init caps the pool at logical cores / 2 (checked: on 2 cores, 2 requested threads ran 1 without this).
  osModule.cpus = () => {
    const real = originalCpus()
    return Array.from({ length: reported }, (_, i) => real[i % real.length])
  }
  try {
    return await init()
  } finally {
    ;(globalThis as any).Blob = OriginalBlob
    osModule.cpus = originalCpus
  }
}
