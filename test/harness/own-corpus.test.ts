/**
 * A suite declaring its own corpus, end to end: paths relative to the suite file, refused before anything runs
 * when the data is unusable, keys that follow the content and not the location, and the two shipped example
 * suites (JSON Lines and nanoGPT token files) trained and recorded.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { loadSuiteSync } from "../../harness/suite/load-suite.js"
import { CorpusService } from "../../harness/runner/corpus-service.js"
import { planSuite } from "../../harness/runner/run-suite.js"
import { harness, scratch, tinySuite, writeSuite } from "./helpers.js"

const fixtures = fileURLToPath(new URL("../fixtures/corpora", import.meta.url))

const plan = (path: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* planSuite(loadSuiteSync(path).suite, {})
    }).pipe(Effect.provide(CorpusService.layer))
  )

describe("a suite with a declared corpus", () => {
  it("reads paths relative to the suite file; moving the data keeps every key, changing a byte changes them all", async () => {
    const loaded = loadSuiteSync(join(fixtures, "jsonl-suite.json")).suite
    expect(loaded.data.corpus).toMatchObject({ kind: "jsonl", path: join(fixtures, "c4-style.jsonl.gz") })
    const dir = scratch("own-corpus-moved-")
    cpSync(fixtures, join(dir, "elsewhere"), { recursive: true })
    const here = await plan(join(fixtures, "jsonl-suite.json"))
    const moved = await plan(join(dir, "elsewhere", "jsonl-suite.json"))
    expect(moved.map((j) => j.key)).toEqual(here.map((j) => j.key))
    // the recorded config says where the data was read from; the key does not depend on it
    expect(moved[0]!.config.data.corpus).toMatchObject({ path: join(dir, "elsewhere", "c4-style.jsonl.gz") })
    const changed = scratch("own-corpus-changed-")
    cpSync(fixtures, changed, { recursive: true })
    writeFileSync(join(changed, "c4-style.jsonl"), readFileSync(join(changed, "c4-style.jsonl"), "utf8").replace("river", "rivet"))
    const suite = JSON.parse(readFileSync(join(changed, "jsonl-suite.json"), "utf8")) as Record<
      string,
      Record<string, Record<string, unknown>>
    >
    suite.data!.corpus!.path = "c4-style.jsonl"
    writeFileSync(join(changed, "jsonl-suite.json"), JSON.stringify(suite))
    const edited = await plan(join(changed, "jsonl-suite.json"))
    expect(edited.every((j, i) => j.key !== here[i]!.key)).toBe(true)
  })

  it("is refused before anything runs when its data is missing, with the path and the fix", async () => {
    const dir = scratch("own-corpus-missing-")
    const path = writeSuite(dir, tinySuite({ data: { corpus: { kind: "jsonl", path: "c4/train.jsonl.gz" }, tokenizer: "bytes" } }))
    const ledger = join(dir, "ledger.db")
    const r = await harness("run", path, "--ledger", ledger, "--checkpoints", join(dir, "ckpt"))
    expect(r.exitCode).not.toBe(0)
    expect(r.err).toContain(`data.corpus: ${join(dir, "c4/train.jsonl.gz")} does not exist. Fix the path`)
    const store = LedgerStore.open(ledger)
    try {
      expect(store.jobs({}).length).toBe(0)
    } finally {
      store.close()
    }
  })

  it("is refused when too short for the longest evaluation, and a passkey task on ids without a tokenizer is a suite problem", async () => {
    const dir = scratch("own-corpus-short-")
    cpSync(join(fixtures, "tokens"), join(dir, "tokens"), { recursive: true })
    const tokens = { kind: "tokens", train: "tokens/train.bin", valid: "tokens/val.bin", vocabSize: 257 }
    const short = writeSuite(
      dir,
      tinySuite({
        name: "short",
        data: { corpus: tokens, tokenizer: "none" },
        evaluation: { lengthMultiples: [1, 64], tasks: ["perplexity"] }
      })
    )
    const r = await harness("run", short, "--ledger", join(dir, "a.db"), "--dry-run")
    expect(r.exitCode).not.toBe(0)
    expect(r.err).toMatch(
      /the validation split of tokens:train\.bin has 222 tokens, fewer than the longest evaluation window \(1,024 \+ 1\)/
    )
    const passkey = writeSuite(
      dir,
      tinySuite({
        name: "passkey",
        data: { corpus: tokens, tokenizer: "none" },
        evaluation: { lengthMultiples: [1], tasks: ["perplexity", "passkey"] }
      })
    )
    expect(() => loadSuiteSync(passkey)).toThrow(/data\.tokenizer: passkey prompts are text and need a tokenizer/)
  })
})

describe("the shipped example suites train and record", () => {
  for (const [file, jobs] of [
    ["jsonl-suite.json", 2],
    ["tokens-suite.json", 1]
  ] as const) {
    it(`${file}`, async () => {
      const dir = scratch("own-corpus-run-")
      const ledger = join(dir, "ledger.db")
      const r = await harness("run", join(fixtures, file), "--ledger", ledger, "--checkpoints", join(dir, "ckpt"), "--backend", "wasm")
      expect(r.exitCode, r.err).toBe(0)
      const store = LedgerStore.open(ledger)
      try {
        const done = store.jobs({ status: "done" })
        expect(done.length).toBe(jobs)
        for (const j of done) expect(store.metrics(j.id).some((m) => m.name === "perplexity" && Number.isFinite(m.value))).toBe(true)
      } finally {
        store.close()
      }
      if (file === "tokens-suite.json") {
        // harness eval reads the shipped text, which a 257-id model cannot: refused, not crashed
        const [checkpoint] = readdirSync(join(dir, "ckpt"))
        const evaluated = await harness("eval", join(dir, "ckpt", checkpoint!), "--ledger", ledger, "--multiples", "1")
        expect(evaluated.exitCode).not.toBe(0)
        expect(evaluated.err).toMatch(
          /has a vocabulary of 257 ids \(trained on a declared token corpus\): harness eval evaluates on the shipped SOTU text/
        )
      }
    }, 120_000)
  }
})
