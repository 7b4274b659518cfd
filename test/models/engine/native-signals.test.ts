/**
 * The native addon under signals (native/signals.h). oneDNN 2.x's JIT sgemm kernels point the stack pointer at a
 * malloc'd workspace while they run, so a signal delivered to that thread writes its frame over the malloc heap;
 * Node's CPU profiler (SIGPROF every sampling interval) then aborted a run within seconds ("corrupted size vs.
 * prev_size while consolidating"). The addon holds the asynchronous signals off while oneDNN and its OpenMP regions
 * run. These tests run the addon in a child process (a crash must not take the test runner with it):
 *   - the model's products in a loop for a while under `--cpu-prof --cpu-prof-interval 100` (SIGPROF every 100 us):
 *     the process exits cleanly (without the hold it aborted in every one of 6 runs of 0.5 s);
 *   - the OpenMP pool's threads, created inside the addon's calls, keep the asynchronous signals blocked (so a
 *     process-directed signal, e.g. SIGCHLD, never lands on a thread inside oneDNN) and the calling thread's mask
 *     is restored.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadNativeGemm } from "../../../models/engine/native-gemm.js"

const load = loadNativeGemm()

/** Runs `script` (CommonJS, `-e`) in a child node with the addon's path as process.argv[1], then `args`. */
const child = (nodeFlags: string[], script: string, args: string[]) =>
  spawnSync(process.execPath, [...nodeFlags, "-e", script, load.ok ? load.path : "", ...args], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" }
  })

// The reference model's products (forward and both gradients of a [1024, 128] x [128, 512] layer, a [1024, 128] x
// [128, 128]^T), one table row each, on a 16 MiB heap: A at 0, B at 4 MiB, C at 8 MiB.
const PRODUCTS = `
const addon = require(process.argv[1])
addon.setThreads(Number(process.argv[2]))
const heap = new Uint8Array(new ArrayBuffer(16 << 20))
const f = new Float32Array(heap.buffer)
for (let i = 0; i < f.length; i++) f[i] = ((i * 7919) % 1000) / 1000 - 0.5
const rows = [
  [0, 0, 1024, 512, 128, 0, 128, 4 << 20, 512, 8 << 20, 512],
  [0, 0, 1024, 128, 512, 0, 512, 4 << 20, 128, 8 << 20, 128],
  [0, 1, 1024, 128, 128, 0, 128, 4 << 20, 128, 8 << 20, 128],
  [1, 0, 128, 512, 1024, 0, 128, 4 << 20, 512, 8 << 20, 512]
].map((r) => Uint32Array.from(r))
const started = Date.now()
let calls = 0
while (Date.now() - started < Number(process.argv[3])) for (const r of rows) { addon.gemm(heap, r, 1); calls++ }
console.log("calls " + calls)
`

// Threads before and after a product and a C kernel's parallel region on a pool of 2; the new threads' blocked
// sets and the calling thread's, from /proc.
const MASKS = `
const fs = require("node:fs")
const addon = require(process.argv[1])
const tasks = () => new Set(fs.readdirSync("/proc/self/task"))
const sigBlk = (file) => /SigBlk:\\s*([0-9a-f]+)/.exec(fs.readFileSync(file, "utf8"))[1]
const before = tasks()
const callerBefore = sigBlk("/proc/thread-self/status")
addon.setThreads(2)
const heap = new Uint8Array(new ArrayBuffer(16 << 20))
addon.gemm(heap, Uint32Array.from([0, 0, 1024, 512, 128, 0, 128, 4 << 20, 512, 8 << 20, 512]), 1)
addon.unary(heap, Uint32Array.from([0, 8 << 20, 0, 1 << 20]), 0)
const pool = [...tasks()].filter((t) => !before.has(t)).map((t) => sigBlk("/proc/self/task/" + t + "/status"))
console.log(JSON.stringify({ callerBefore, callerAfter: sigBlk("/proc/thread-self/status"), pool }))
`

const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "native-signals-"))
afterAll(() => fs.rmSync(profileDir, { recursive: true, force: true }))

describe.runIf(load.ok)("native addon under signals", () => {
  for (const threads of [1, 2]) {
    it(`products under the CPU profiler (SIGPROF every 100 us), ${threads} thread(s): the process exits cleanly`, () => {
      const r = child(["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", profileDir], PRODUCTS, [String(threads), "700"])
      expect({ status: r.status, signal: r.signal, stderr: r.stderr.trim().split("\n").slice(-3).join(" | ") }).toEqual({
        status: 0,
        signal: null,
        stderr: ""
      })
      expect(r.stdout).toMatch(/^calls [1-9]\d*$/m)
      // the profile was written: the profiler ran through the products
      expect(fs.readdirSync(profileDir).some((f) => f.endsWith(".cpuprofile"))).toBe(true)
    })
  }

  it.runIf(fs.existsSync("/proc/thread-self/status"))(
    "OpenMP's pool threads keep the asynchronous signals blocked; the caller's mask is restored",
    () => {
      const r = child([], MASKS, [])
      expect(r.status, r.stderr).toBe(0)
      const { callerBefore, callerAfter, pool } = JSON.parse(r.stdout) as { callerBefore: string; callerAfter: string; pool: string[] }
      expect(callerAfter).toBe(callerBefore)
      expect(pool.length).toBeGreaterThan(0)
      const blocked = (mask: string, signal: number) => ((BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n) === 1n
      for (const mask of pool) {
        const held = { SIGINT: 2, SIGTERM: 15, SIGCHLD: 17, SIGPROF: 27, SIGWINCH: 28 }
        const open = { SIGSEGV: 11, SIGBUS: 7, SIGFPE: 8, SIGILL: 4 }
        expect(
          Object.entries(held)
            .filter(([, s]) => !blocked(mask, s))
            .map(([n]) => n),
          `pool thread SigBlk ${mask}`
        ).toEqual([])
        expect(
          Object.entries(open)
            .filter(([, s]) => blocked(mask, s))
            .map(([n]) => n),
          `pool thread SigBlk ${mask}`
        ).toEqual([])
      }
    }
  )
})
