/**
 * A checkpoint directory's manifest: the sha256 of every file in it, written last, so that a checkpoint
 * with a missing, truncated or edited file is refused on load with the file's name.
 * The checkpoint's own hash (what the ledger records) is the sha256 of manifest.json.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

export const MANIFEST_FILE = "manifest.json"
export const MANIFEST_FORMAT = "fope-harness/checkpoint-manifest@1"

export interface Manifest {
  readonly format: string
  /** file name (relative to the directory) -> { sha256, bytes } */
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly bytes: number }>>
}

export class CheckpointError extends Error {
  override readonly name = "CheckpointError"
}

export const sha256Hex = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")

/**
 * Writes a whole checkpoint so that the previous one survives any failure (a full disk, a kill mid-save): the files
 * and manifest.json go to a staging directory beside `dir`, which then replaces `dir` by two renames (old -> retired,
 * staging -> dir). A crash between the renames leaves the retired copy, which `recoverCheckpoint` puts back.
 * Returns the manifest's sha256.
 */
export const writeCheckpointFiles = (
  dir: string,
  files: ReadonlyArray<readonly [string, Uint8Array | string]>,
  /** files saved with the checkpoint but outside its manifest and hash (wall-clock facts, not results) */
  unhashed: ReadonlyArray<readonly [string, string]> = []
): { path: string; sha256: string } => {
  const staging = `${dir}.staging-${process.pid}`
  const retired = `${dir}.retired-${process.pid}`
  fs.rmSync(staging, { recursive: true, force: true })
  fs.mkdirSync(staging, { recursive: true })
  try {
    const entries: Record<string, { sha256: string; bytes: number }> = {}
    for (const [name, content] of files) {
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
      fs.writeFileSync(path.join(staging, name), bytes)
      entries[name] = { sha256: sha256Hex(bytes), bytes: bytes.length }
    }
    for (const [name, content] of unhashed) fs.writeFileSync(path.join(staging, name), content)
    const manifest: Manifest = { format: MANIFEST_FORMAT, files: entries }
    const text = JSON.stringify(manifest, null, 2) + "\n"
    fs.writeFileSync(path.join(staging, MANIFEST_FILE), text)
    if (fs.existsSync(dir)) fs.renameSync(dir, retired)
    fs.renameSync(staging, dir)
    fs.rmSync(retired, { recursive: true, force: true })
    return { path: dir, sha256: sha256Hex(text) }
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true })
    recoverCheckpoint(dir)
    const code = (e as { code?: string }).code
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new CheckpointError(
        `cannot save the checkpoint in ${dir}: the disk is full (${code}); the previous checkpoint is kept. Free space and rerun to resume from it`
      )
    }
    throw e
  }
}

/** Puts back a checkpoint left retired by a crash between the two renames of writeCheckpointFiles. */
export const recoverCheckpoint = (dir: string): void => {
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return
  const parent = path.dirname(dir)
  if (!fs.existsSync(parent)) return
  const prefix = `${path.basename(dir)}.retired-`
  const retired = fs
    .readdirSync(parent)
    .filter((n) => n.startsWith(prefix))
    .map((n) => path.join(parent, n))
  const usable = retired.find((r) => fs.existsSync(path.join(r, MANIFEST_FILE)))
  if (!usable) return
  fs.rmSync(dir, { recursive: true, force: true })
  fs.renameSync(usable, dir)
}

/** Reads manifest.json and every file it lists, verifying each hash; returns the files' bytes by name. */
export const readVerifiedFiles = (dir: string): { files: ReadonlyMap<string, Uint8Array>; sha256: string } => {
  recoverCheckpoint(dir)
  const manifestPath = path.join(dir, MANIFEST_FILE)
  if (!fs.existsSync(manifestPath)) {
    throw new CheckpointError(
      `${dir} is not a checkpoint: ${MANIFEST_FILE} is missing (the save may have been interrupted; use an earlier checkpoint)`
    )
  }
  const manifestText = fs.readFileSync(manifestPath, "utf8")
  let manifest: Manifest
  try {
    manifest = JSON.parse(manifestText) as Manifest
  } catch (e) {
    throw new CheckpointError(`${manifestPath} is not valid JSON (${(e as Error).message})`)
  }
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new CheckpointError(`${manifestPath} has format ${JSON.stringify(manifest.format)}, expected "${MANIFEST_FORMAT}"`)
  }
  const files = new Map<string, Uint8Array>()
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, name)
    if (!fs.existsSync(file)) throw new CheckpointError(`checkpoint file ${file} is missing; the checkpoint is incomplete, use another one`)
    const bytes = new Uint8Array(fs.readFileSync(file))
    const actual = sha256Hex(bytes)
    if (actual !== expected.sha256) {
      throw new CheckpointError(
        `checkpoint file ${file} does not match its manifest: sha256 ${actual}, expected ${expected.sha256} ` +
          `(${bytes.length} bytes, expected ${expected.bytes}). The file was changed or corrupted after saving; use another checkpoint.`
      )
    }
    files.set(name, bytes)
  }
  return { files, sha256: sha256Hex(manifestText) }
}
