/**
 * `harness reproduce <job>`: a recorded job rerun from scratch is certified bitwise on the wasm engine, and the
 * certificate lands in the ledger (the mismatch path is unit-tested with compareForCertificate in test/ledger).
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { loadNativeGemm } from "../../models/engine/native-gemm.js"
import { runHarness, scratch, tinySuite, writeSuite } from "./helpers.js"

describe("harness reproduce", () => {
  it("certifies a bitwise rerun and records the certificate in the ledger", async () => {
    const dir = scratch()
    const suite = writeSuite(dir, tinySuite({ name: "repro", embeddings: ["fope"] }))
    const ledger = join(dir, "harness.db")
    const run = await runHarness([
      "run",
      suite,
      "--ledger",
      ledger,
      "--checkpoints",
      join(dir, "ckpt"),
      "--backend",
      "wasm",
      "--threads",
      "1"
    ])
    expect(run.code).toBe(0)
    const store = LedgerStore.open(ledger)
    const [job] = store.jobs({ status: "done" })
    store.close()

    const ok = await runHarness(["reproduce", job!.key.slice(0, 10), "--ledger", ledger])
    expect(ok.stdout).toMatch(/CERTIFIED: \d+ metrics compared, max \|difference\| 0\.000e\+0 \(bitwise\)/)
    expect(ok.code).toBe(0)
    const after = LedgerStore.open(ledger)
    expect(after.certificates(job!.id).map((c) => [c.verdict, c.mode])).toEqual([["certified", "bitwise"]])
    expect(after.verify().ok).toBe(true)
    after.close()
  })

  // Where the native products are built, the engine takes them by default; a job recorded on the WebAssembly GEMM
  // (here: HARNESS_NATIVE=off) must be rerun on it, or its last bits differ.
  it.runIf(loadNativeGemm().ok)("reruns on the product path the job was recorded with (WebAssembly GEMM, native built)", async () => {
    const dir = scratch()
    const suite = writeSuite(dir, tinySuite({ name: "repro-gemm", embeddings: ["rope"] }))
    const ledger = join(dir, "harness.db")
    const off = { env: { HARNESS_NATIVE: "off" } }
    const run = await runHarness(
      ["run", suite, "--ledger", ledger, "--checkpoints", join(dir, "ckpt"), "--backend", "wasm", "--threads", "1"],
      off
    )
    expect(run.code).toBe(0)
    const store = LedgerStore.open(ledger)
    const [job] = store.jobs({ status: "done" })
    store.close()
    const ok = await runHarness(["reproduce", job!.key.slice(0, 10), "--ledger", ledger])
    expect(ok.stdout).toMatch(/products on the WebAssembly GEMM as recorded/)
    expect(ok.stdout).toMatch(/CERTIFIED: \d+ metrics compared, max \|difference\| 0\.000e\+0 \(bitwise\)/)
    expect(ok.code).toBe(0)
  })
})
