/** The synthetic task generators (models/data/synthetic-tasks.ts): lengths, determinism, and each task's invariants. */
import { describe, expect, it } from "vitest"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import {
  evaluationVariants,
  flipFlop,
  mqar,
  needleMultiKey,
  needleMultiValue,
  SYNTHETIC_TASKS,
  trainingGenerator,
  variableTracking,
  type SyntheticExample
} from "../../../models/data/synthetic-tasks.js"

const text = (e: SyntheticExample): string => String.fromCharCode(...e.tokens)
const answerText = (e: SyntheticExample): string => String.fromCharCode(...Array.from(e.answers, (t) => e.tokens[t]!))
const examples = (make: (rng: SeededRandom, n: number) => SyntheticExample, n: number, count = 30): SyntheticExample[] => {
  const rng = SeededRandom.create(4, `synthetic-test/${n}`)
  return Array.from({ length: count }, () => make(rng, n))
}

describe("synthetic tasks", () => {
  it.each(SYNTHETIC_TASKS)("%s: exactly the length asked, ASCII, starts with ^, answers ascending inside, deterministic", (task) => {
    const make = trainingGenerator(task)
    for (const n of [65, 128, 257, 2048]) {
      for (const e of examples(make, n, 5)) {
        expect(e.tokens.length).toBe(n)
        expect(e.tokens[0]).toBe("^".charCodeAt(0))
        expect(Array.from(e.tokens).every((c) => c >= 32 && c < 127)).toBe(true)
        if (task !== "flip-flop") expect(e.answers.length).toBeGreaterThan(0) // a short flip-flop may hold no read
        Array.from(e.answers).forEach((t, i) => {
          expect(t).toBeGreaterThanOrEqual(1)
          expect(t).toBeLessThan(n)
          if (i > 0) expect(t).toBeGreaterThan(e.answers[i - 1]!)
        })
      }
      expect(examples(make, n, 3).map(text)).toEqual(examples(make, n, 3).map(text))
    }
    expect(() => make(SeededRandom.create(1), 2)).toThrow(/needs at least/)
  })

  it("flip-flop: starts with a write, every read repeats the last written bit, ignores at about p", () => {
    for (const [p, lo, hi] of [
      [0.8, 0.77, 0.83],
      [0.98, 0.97, 0.99],
      [0.1, 0.08, 0.12]
    ] as const) {
      let ignores = 0
      let instructions = 0
      for (const e of examples(flipFlop(p), 2049, 20)) {
        const s = text(e)
        expect(s[1]).toBe("w")
        let last = ""
        const reads: number[] = []
        const problems: string[] = []
        for (let t = 1; t + 1 < s.length; t += 2) {
          const [op, bit] = [s[t]!, s[t + 1]!]
          if (!"wir".includes(op) || !"01".includes(bit)) problems.push(`bad pair ${op}${bit} at ${t}`)
          instructions++
          if (op === "i") ignores++
          if (op === "w") last = bit
          if (op === "r") {
            if (bit !== last) problems.push(`read ${bit} at ${t + 1}, last write ${last}`)
            reads.push(t + 1)
          }
        }
        expect(problems).toEqual([])
        expect(Array.from(e.answers)).toEqual(reads)
      }
      expect(ignores / instructions).toBeGreaterThan(lo)
      expect(ignores / instructions).toBeLessThan(hi)
    }
    expect(evaluationVariants("flip-flop").map((v) => v.variant)).toEqual(["flip-flop", "flip-flop-sparse", "flip-flop-dense"])
  })

  it("mqar: 8 distinct keys with values, each queried once later, answered by its value", () => {
    for (const e of examples(mqar, 300)) {
      const s = text(e)
      const pairs = new Map<string, string>()
      for (let i = 0; i < 8; i++) pairs.set(s[1 + 2 * i]!, s[2 + 2 * i]!)
      expect(pairs.size).toBe(8)
      const asked = Array.from(e.answers, (t) => s[t - 1]!)
      expect([...asked].sort()).toEqual([...pairs.keys()].sort())
      Array.from(e.answers).forEach((t) => expect(s[t]).toBe(pairs.get(s[t - 1]!)))
      expect(s.slice(17).replace(/[a-z][A-Z]/g, "")).toMatch(/^\.*$/) // the rest is filler
    }
  })

  it("needles: multi-key answers the asked key's digits; multi-value all values in order", () => {
    for (const e of examples(needleMultiKey, 512)) {
      const s = text(e)
      const found = [...s.matchAll(/#([a-z])=(\d{4});/g)]
      expect(new Set(found.map((m) => m[1])).size).toBe(4)
      const q = s.match(/\?([a-z])=(\d{4})$/)!
      expect(found.find((m) => m[1] === q[1])![2]).toBe(q[2])
      expect(answerText(e)).toBe(q[2])
    }
    for (const e of examples(needleMultiValue, 512)) {
      const s = text(e)
      const found = [...s.matchAll(/#([a-z])=(\d{4});/g)]
      expect(found).toHaveLength(3)
      expect(new Set(found.map((m) => m[1])).size).toBe(1)
      expect(answerText(e)).toBe(found.map((m) => m[2]).join(","))
      expect(s.endsWith(`?${found[0]![1]}=${answerText(e)}`)).toBe(true)
    }
  })

  it("variable tracking: the answer is every name whose chain resolves to the asked digit, in assignment order", () => {
    for (const e of examples(variableTracking, 512)) {
      const s = text(e)
      const value = new Map<string, string>()
      const order: string[] = []
      for (const m of s.matchAll(/#([A-Z])=([A-Z0-9]);/g)) {
        const v = /\d/.test(m[2]!) ? m[2]! : value.get(m[2]!)
        expect(v, `${m[2]} assigned before use`).toBeDefined()
        value.set(m[1]!, v!)
        order.push(m[1]!)
      }
      expect(order).toHaveLength(5)
      const digit = s.match(/\?(\d):[A-Z]+$/)![1]!
      expect(answerText(e)).toBe(order.filter((n) => value.get(n) === digit).join(""))
      expect(answerText(e)).toHaveLength(3)
    }
  })

  it("copy and reverse: the answer is the string again / reversed, and the string grows with the length", () => {
    for (const [task, f] of [
      ["copy", (x: string) => x],
      ["reverse", (x: string) => [...x].reverse().join("")]
    ] as const) {
      for (const n of [64, 1024]) {
        for (const e of examples(trainingGenerator(task), n, 5)) {
          const [, s] = text(e).match(/^\^([a-z]+)\|/)!
          expect(s!.length).toBe(Math.floor((n - 2) / 2))
          expect(answerText(e)).toBe(f(s!))
        }
      }
    }
  })
})
