/**
 * One variant of the engine benchmark in a child process of its own (kernel overrides, the wasm thread count and
 * the peak RSS are process-global): runChild spawns this module, compiled, as `node child.js <request as JSON>`;
 * the child measures (measure.ts) and prints one result line, which runChild reads back.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { measureVariant } from "./measure.js"
import type { ChildRequest, VariantResult } from "./variants.js"

const RESULT_PREFIX = "ENGINE_BENCH_RESULT "

/** The compiled script to spawn (children must run JavaScript: under vitest this module is TypeScript). */
const compiledScript = (): string => {
  const self = fileURLToPath(import.meta.url)
  if (self.endsWith(".js") || self.endsWith(".mjs")) return self // compiled, or bundled (scripts/bundle-harness.mjs)
  const dist = path.resolve(path.dirname(self), "../../../dist/harness/bench/engine/child.js")
  if (!fs.existsSync(dist)) throw new Error(`bench children need the compiled script ${dist}: run \`npm run build\` first.`)
  return dist
}

export const runChild = (request: ChildRequest, timeoutMs: number): Promise<VariantResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [compiledScript(), JSON.stringify(request)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX))
      if (line !== undefined) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as VariantResult)
      const tail = stderr.trim().split("\n").slice(-3).join(" / ")
      resolve({ variant: request.variant, ok: false, error: `child exited ${code ?? "by signal"}: ${tail || "no output"}` })
    })
  })

/** The request of the command line's one argument, checked field by field. */
export const parseChildRequest = (json: string | undefined): ChildRequest => {
  if (json === undefined) throw new Error("usage: node child.js <request as JSON> (spawned by the engine benchmark)")
  const r = JSON.parse(json) as Record<string, unknown>
  if (typeof r.variant !== "string") throw new Error(`child request: variant must be a string, got ${JSON.stringify(r.variant)}`)
  if (typeof r.steps !== "number" || !Number.isInteger(r.steps) || r.steps < 1)
    throw new Error(`child request: steps must be a positive integer, got ${JSON.stringify(r.steps)}`)
  if (typeof r.embeddingComparison !== "boolean") throw new Error("child request: embeddingComparison must be a boolean")
  if (r.scales !== undefined && typeof r.scales !== "boolean") throw new Error("child request: scales must be a boolean when given")
  return {
    variant: r.variant,
    steps: r.steps,
    embeddingComparison: r.embeddingComparison,
    ...(r.scales !== undefined ? { scales: r.scales } : {})
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  let request: ChildRequest | undefined
  const measure = async (): Promise<VariantResult> => measureVariant((request = parseChildRequest(process.argv[2])))
  measure().then(
    (r) => {
      process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + "\n")
      process.exit(0) // wasm pthread workers would otherwise keep the process alive
    },
    (e: unknown) => {
      const error = e instanceof Error ? e.message : String(e)
      process.stdout.write(RESULT_PREFIX + JSON.stringify({ variant: request?.variant ?? "unknown", ok: false, error }) + "\n")
      process.exit(1)
    }
  )
}
