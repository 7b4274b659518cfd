/**
 * The repository explains itself: its source never points at documents outside it, at tracker issues or at
 * scratch files. What a module needs from a spec is restated in the repo (docs/, module headers).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..", "..")
const FOLDERS = ["embeddings", "models", "ledger", "harness", "suites", "docs", "test"]
const FORBIDDEN = /shared\/docs|\.\.\/shared\/(?!-)|\/tmp\/[a-z]+\.md|\bissue [0-9]+\b/i

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return entry === "node_modules" ? [] : files(path)
    return /\.(ts|js|mjs|md|json|c|h)$/.test(entry) ? [path] : []
  })

describe("the source is self-contained", () => {
  it("no file points at documents outside the repository, issue numbers or scratch files", () => {
    const hits: string[] = []
    for (const folder of FOLDERS)
      for (const file of files(join(root, folder)))
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (FORBIDDEN.test(line)) hits.push(`${file.slice(root.length + 1)}:${i + 1}: ${line.trim()}`)
          })
    expect(hits).toEqual([])
  })
})
