/**
 * The code version that goes into every job key, and the git facts recorded with every run.
 *
 * Code version = sha256 over the contents of the source folders (embeddings, models, ledger, harness and
 * the suite schema; test/ excluded) plus package-lock.json (dependency versions change numerics too).
 * It is a content hash rather than a commit id on purpose: two commits that change only docs or tests give
 * the same key, and a fresh clone without git history still computes it. The git commit and whether the
 * tree had uncommitted source changes are recorded beside it in the run record.
 */
import { createHash } from "node:crypto"
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

// exported for the CI recipes: their checkpoint cache key must hash these same files (a test compares)
export const SOURCE_FOLDERS = ["embeddings", "models", "ledger", "harness"] as const
export const SOURCE_FILES = ["suites/schema.ts", "package-lock.json"] as const

/** The repository root: the folder holding package.json above this module (sources or dist/). */
export const projectRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "suites"))) return resolve(dir)
    dir = dirname(dir)
  }
  throw new Error("cannot find the fope-harness project root (package.json beside suites/)")
}

const listSources = (root: string, folder: string): string[] => {
  const out: string[] = []
  const walk = (dir: string) => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (/\.(ts|js|mjs|json)$/.test(entry)) out.push(path)
    }
  }
  walk(join(root, folder))
  return out
}

let cached: string | undefined

export const codeVersion = (root: string = projectRoot()): string => {
  if (cached !== undefined) return cached
  const hash = createHash("sha256")
  const files = [...SOURCE_FOLDERS.flatMap((f) => listSources(root, f)), ...SOURCE_FILES.map((f) => join(root, f)).filter(existsSync)]
  for (const file of files) {
    hash.update(relative(root, file).replaceAll("\\", "/"))
    hash.update("\0")
    hash.update(readFileSync(file))
    hash.update("\0")
  }
  cached = `src-${hash.digest("hex").slice(0, 16)}`
  return cached
}

export interface GitFacts {
  readonly commit: string | null
  /** sha256 of `git diff HEAD` over the source folders, or null when the tree is clean */
  readonly dirtyHash: string | null
}

export const gitFacts = (root: string = projectRoot()): GitFacts => {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
  try {
    const commit = git("rev-parse", "HEAD").trim()
    const diff = git("diff", "HEAD", "--", ...SOURCE_FOLDERS, ...SOURCE_FILES)
    return { commit, dirtyHash: diff.length > 0 ? createHash("sha256").update(diff).digest("hex") : null }
  } catch {
    return { commit: null, dirtyHash: null }
  }
}
