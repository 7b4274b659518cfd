#!/usr/bin/env node
// Entry point of `npx harness`. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare`
// script); if a source file changed since the last build, rebuild first (tsc 7 takes a few seconds), so a
// researcher who edits an embedding never runs stale code by accident.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs"
import { execFileSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const main = join(root, "dist", "harness", "cli", "main.js")

const newestSource = () => {
  let newest = 0
  const walk = (dir) => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  for (const folder of ["harness", "embeddings", "models", "ledger", "suites"]) walk(join(root, folder))
  return newest
}

const stale = () => !existsSync(main) || statSync(main).mtimeMs < newestSource()

// Several harness processes may start at once (--jobs N, parallel tests): one builds, the others wait for it.
const lock = join(root, ".build-lock")
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
for (let waited = 0; stale() && waited < 120_000; ) {
  try {
    mkdirSync(lock)
  } catch {
    // a lock older than two minutes was left by a killed build
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true })
    else sleep(200), (waited += 200)
    continue
  }
  try {
    if (stale()) build()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
// tsc writes main.js before the rest: never import while another process is still emitting
for (let waited = 0; existsSync(lock) && waited < 120_000; waited += 200) sleep(200)

function build() {
  process.stderr.write(
    existsSync(main)
      ? "fope-harness: sources changed since the last build; rebuilding (npm run build)...\n"
      : "fope-harness: building (npm run build)...\n"
  )
  try {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], {
      stdio: "inherit"
    })
  } catch {
    // tsc still emits JavaScript when it reports type errors; refuse only when nothing runnable came out
    if (!existsSync(main)) {
      process.stderr.write("fope-harness: the build failed (errors above). Fix them, then run `npm run build`.\n")
      rmSync(lock, { recursive: true, force: true })
      process.exit(1)
    }
    process.stderr.write("fope-harness: WARNING: the build reported type errors (above); running the emitted JavaScript anyway.\n")
  }
}

await import(pathToFileURL(main).href)
