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

/** Writes a file through a temporary name and a rename, so a crash never leaves a half-written file under the real name. */
export const writeFileAtomic = (file: string, bytes: Uint8Array | string): void => {
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, bytes)
  fs.renameSync(tmp, file)
}

/** Writes files into `dir` (created if needed), then manifest.json; returns the manifest's sha256. */
export const writeCheckpointFiles = (dir: string, files: ReadonlyArray<readonly [string, Uint8Array | string]>): { path: string; sha256: string } => {
  fs.mkdirSync(dir, { recursive: true })
  // an old manifest must not vouch for new files while they are being written
  fs.rmSync(path.join(dir, MANIFEST_FILE), { force: true })
  const entries: Record<string, { sha256: string; bytes: number }> = {}
  for (const [name, content] of files) {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    writeFileAtomic(path.join(dir, name), bytes)
    entries[name] = { sha256: sha256Hex(bytes), bytes: bytes.length }
  }
  const manifest: Manifest = { format: MANIFEST_FORMAT, files: entries }
  const text = JSON.stringify(manifest, null, 2) + "\n"
  writeFileAtomic(path.join(dir, MANIFEST_FILE), text)
  return { path: dir, sha256: sha256Hex(text) }
}

/** Reads manifest.json and every file it lists, verifying each hash; returns the files' bytes by name. */
export const readVerifiedFiles = (dir: string): { files: ReadonlyMap<string, Uint8Array>; sha256: string } => {
  const manifestPath = path.join(dir, MANIFEST_FILE)
  if (!fs.existsSync(manifestPath)) {
    throw new CheckpointError(`${dir} is not a checkpoint: ${MANIFEST_FILE} is missing (the save may have been interrupted; use an earlier checkpoint)`)
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
