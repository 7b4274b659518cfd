/** Shared helpers for harness tests: tiny suites, scratch folders, the CLI as a child process. */
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import { Command } from "effect/cli"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { TestConsole } from "effect/testing"
import { rootCommand, VERSION } from "../../harness/cli/root.js"
import { reportFailure } from "../../harness/cli/report-failure.js"

export const scratch = (prefix = "fope-test-"): string => mkdtempSync(join(tmpdir(), prefix))

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))

/** A suite small enough to train in seconds: nano decoders at 16 tokens. */
export const tinySuite = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: "tiny",
  description: "test suite",
  embeddings: ["rope", "fope"],
  scales: ["nano"],
  seeds: [0],
  data: { corpus: "sotu", tokenizer: "bytes" },
  training: { length: 16, steps: 6, batchSize: 2, learningRate: 0.003, warmupSteps: 2, checkpointEvery: 3 },
  evaluation: { lengthMultiples: [1, 2], tasks: ["perplexity"], maxWindows: 2 },
  ...overrides
})

export const writeSuite = (dir: string, suite: Record<string, unknown>): string => {
  const path = join(dir, `${String(suite.name)}.json`)
  writeFileSync(path, JSON.stringify(suite, null, 2))
  return path
}

export interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `harness <args>` as a separate process (bin/harness.js rebuilds dist/ when sources changed). `onLine` sees
 * every stderr line as it arrives and may act on the child (send it a signal).
 */
export const runHarness = (
  args: ReadonlyArray<string>,
  options: { onLine?: (line: string, child: ReturnType<typeof spawn>) => void; env?: Record<string, string> } = {}
): Promise<ChildResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "harness.js"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, HARNESS_PROGRESS_INTERVAL_MS: "0", ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let pending = ""
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()))
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString()
      pending += c.toString()
      const lines = pending.split("\n")
      pending = lines.pop() ?? ""
      for (const line of lines) options.onLine?.(line, child)
    })
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

export interface Captured {
  readonly out: string
  readonly err: string
  readonly exitCode: number
}

/** Runs `harness <args>` in-process; stderr written by reportFailure is captured too. */
export const harness = async (...args: string[]): Promise<Captured> => {
  const stderr: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  process.exitCode = 0
  try {
    const lines = await Effect.runPromise(
      Effect.gen(function* () {
        yield* Command.runWith(rootCommand, { version: VERSION })(args).pipe(Effect.catch((e) => reportFailure(e)))
        const out = yield* TestConsole.logLines
        const err = yield* TestConsole.errorLines
        return { out: out.map(String).join("\n"), err: err.map(String).join("\n") }
      }).pipe(Effect.provide(Layer.mergeAll(NodeServices.layer, TestConsole.layer)))
    )
    return { out: lines.out, err: `${lines.err}${stderr.join("")}`, exitCode: Number(process.exitCode ?? 0) }
  } finally {
    process.stderr.write = write
  }
}
