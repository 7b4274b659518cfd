#!/usr/bin/env node
/**
 * Builds the optional native kernels (native/dnnl-gemm.c -> native/build/Release/dnnl_gemm.node) with node-gyp
 * when oneDNN (Debian `libdnnl-dev`) and a C compiler are present. Runs from `npm ci` / `npm install` (the
 * package's install script) and never fails them: without the library it says so in one line and the engine
 * multiplies on its WebAssembly GEMM instead. `HARNESS_NATIVE=off` skips the build.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const say = (line) => console.log(`native kernels: ${line}`)
const fallback = "the engine multiplies on its WebAssembly GEMM (install libdnnl-dev, then `npm run build:native`, for the native path)"

const probeLibrary = () => {
  // Header, library and compiler in one go: a program that calls the library must compile and link.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dnnl-probe-"))
  try {
    const src = path.join(dir, "probe.c")
    fs.writeFileSync(src, "#include <oneapi/dnnl/dnnl.h>\nint main(void) { return dnnl_version()->major > 0 ? 0 : 1; }\n")
    const cc = process.env.CC ?? "cc"
    const r = spawnSync(cc, [src, "-o", path.join(dir, "probe"), "-ldnnl"], { encoding: "utf8" })
    if (r.error) return `no C compiler (${cc}: ${r.error.message})`
    if (r.status !== 0) return `oneDNN not found (${(r.stderr || "").split("\n").find((l) => l.includes("error")) ?? "compile failed"})`
    return null
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** node-gyp: the one npm passes to scripts, else the one bundled with this Node's npm, else PATH's. */
const nodeGyp = () => {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")
  ]
  for (const c of candidates) if (c && fs.existsSync(c)) return [process.execPath, c]
  return ["node-gyp"]
}

const main = () => {
  if (process.env.HARNESS_NATIVE === "off") return say(`skipped (HARNESS_NATIVE=off); ${fallback}`)
  const missing = probeLibrary()
  if (missing !== null) return say(`not built: ${missing}; ${fallback}`)
  const [cmd, ...pre] = nodeGyp()
  const args = [...pre, "rebuild"]
  // Node's headers: node-gyp would download them; offline, the distribution's copy under /usr serves.
  if (!process.env.npm_config_nodedir && fs.existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr")
  const started = Date.now()
  const r = spawnSync(cmd, args, { cwd: here, encoding: "utf8", timeout: 300_000 })
  if (r.error || r.status !== 0) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-6).join(" | ")
    return say(`build failed (${r.error?.message ?? `node-gyp exit ${r.status}`}: ${tail}); ${fallback}`)
  }
  say(
    `built native/build/Release/dnnl_gemm.node (oneDNN sgemm and the C kernels of native/kernels.c) in ${((Date.now() - started) / 1000).toFixed(1)} s`
  )
}

try {
  main()
} catch (e) {
  say(`build failed (${e instanceof Error ? e.message : String(e)}); ${fallback}`)
}
