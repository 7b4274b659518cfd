/**
 * The house style is Biome's (biome.json: the formatter, and the linter's recommended rules less a few that fight
 * this code base's idioms). `npm run format` applies it; this test fails when a file drifts from it, so CI checks it.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

describe("house style", () => {
  it("every source file is formatted and passes the linter (biome ci)", () => {
    const biome = spawnSync(
      process.execPath,
      ["node_modules/@biomejs/biome/bin/biome", "ci", "--colors=off", "--max-diagnostics=20", "."],
      {
        cwd: root,
        encoding: "utf8"
      }
    )
    expect(biome.error).toBeUndefined()
    // the diagnostics name each file and what to change; `npm run format` fixes the formatting ones
    expect(biome.status, `${biome.stdout}\n${biome.stderr}\nRun \`npm run format\` (and fix what the linter names).`).toBe(0)
  }, 60_000)
})
