#!/usr/bin/env node
// Entry point of `npx harness`. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare`
// script); if a source file changed since the last build, rebuild first (tsc 7 takes a few seconds), so a
// researcher who edits an embedding never runs stale code by accident.
import { existsSync, readdirSync, statSync } from "node:fs"
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

if (!existsSync(main) || statSync(main).mtimeMs < newestSource()) {
  process.stderr.write(existsSync(main) ? "fope-harness: sources changed since the last build; rebuilding (npm run build)...\n" : "fope-harness: building (npm run build)...\n")
  try {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" })
  } catch {
    // tsc still emits JavaScript when it reports type errors; refuse only when nothing runnable came out
    if (!existsSync(main)) {
      process.stderr.write("fope-harness: the build failed (errors above). Fix them, then run `npm run build`.\n")
      process.exit(1)
    }
    process.stderr.write("fope-harness: WARNING: the build reported type errors (above); running the emitted JavaScript anyway.\n")
  }
}
await import(pathToFileURL(main).href)
