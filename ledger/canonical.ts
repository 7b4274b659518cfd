/**
 * Canonical JSON and sha256: the one serialisation every hash in the harness is computed over
 * (job keys, ledger record hashes, config hashes).
 *
 * Rules (RFC 8785 "JCS" in spirit, simplified to what the harness stores):
 * - object keys sorted by UTF-16 code unit order (`Array.prototype.sort` default), no whitespace;
 * - `undefined` object members are dropped (so `{ a: undefined }` and `{}` hash alike);
 *   `undefined` inside an array is an error (JSON would silently turn it into null);
 * - numbers are written as ECMAScript's shortest round-trip string (`String(n)`: `0.1`, `1e-7`, `1e+21`),
 *   so `JSON.parse` gives back the exact same double; `-0` is written `0`;
 * - NaN and +-Infinity are REJECTED with a `CanonicalJsonError` naming the path: a non-finite number in a
 *   result is a bug upstream (a diverged run must be recorded as a failed job, not as a NaN metric), and
 *   encoding it as a string would make `value` silently change type;
 * - bigint, functions, symbols, Dates, Maps, class instances: rejected (convert them explicitly first).
 */
import { createHash } from "node:crypto"
import { CanonicalJsonError } from "./errors.js"

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

const write = (value: unknown, path: string, out: string[]): void => {
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value))
      return
    case "boolean":
      out.push(value ? "true" : "false")
      return
    case "number":
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError({
          path,
          problem: `${value} is not a finite number; record a diverged or failed computation as a failed job (failJob) instead of a metric`
        })
      }
      out.push(Object.is(value, -0) ? "0" : String(value))
      return
    case "object": {
      if (value === null) {
        out.push("null")
        return
      }
      if (Array.isArray(value)) {
        out.push("[")
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",")
          const item = value[i]
          if (item === undefined) throw new CanonicalJsonError({ path: `${path}[${i}]`, problem: "undefined inside an array; use null" })
          write(item, `${path}[${i}]`, out)
        }
        out.push("]")
        return
      }
      if (ArrayBuffer.isView(value)) {
        throw new CanonicalJsonError({ path, problem: "a typed array; convert it with Array.from first" })
      }
      if (!isPlainObject(value)) {
        const kind = (value as object).constructor?.name ?? "object"
        throw new CanonicalJsonError({ path, problem: `a ${kind} instance; convert it to plain JSON data first` })
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
      out.push("{")
      keys.forEach((k, i) => {
        if (i > 0) out.push(",")
        out.push(JSON.stringify(k), ":")
        write(record[k], `${path}.${k}`, out)
      })
      out.push("}")
      return
    }
    case "undefined":
      throw new CanonicalJsonError({ path, problem: "undefined at the top level" })
    default:
      throw new CanonicalJsonError({ path, problem: `a ${typeof value}, which JSON cannot represent` })
  }
}

/** Canonical JSON text of `value` (see the module comment for the rules). */
export const canonicalJson = (value: unknown): string => {
  const out: string[] = []
  write(value, "$", out)
  return out.join("")
}

/** sha256 of a UTF-8 string or bytes, lowercase hex. */
export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** sha256 hex of the canonical JSON of `value`. */
export const hashCanonical = (value: unknown): string => sha256Hex(canonicalJson(value))

/** The hash that precedes the first record of a chain. */
export const GENESIS_HASH = "0".repeat(64)

/** Record hash = sha256(previous hash + canonical(record)) (architecture.md, "Keys and hashes"). */
export const chainHash = (prevHash: string, record: unknown): string => sha256Hex(prevHash + canonicalJson(record))

/**
 * The canonical text of a chain record { seq, kind, at, data } when `dataJson` is already canonical:
 * keys in sorted order (at < data < kind < seq), so this equals canonicalJson({ seq, kind, at, data })
 * without re-serialising the payload (the hot path of appends and verify).
 */
export const canonicalRecordText = (seq: number, kind: string, at: string, dataJson: string): string =>
  `{"at":${JSON.stringify(at)},"data":${dataJson},"kind":${JSON.stringify(kind)},"seq":${seq}}`

/** chainHash for a record whose payload is already canonical JSON text. */
export const chainHashOfText = (prevHash: string, seq: number, kind: string, at: string, dataJson: string): string =>
  sha256Hex(prevHash + canonicalRecordText(seq, kind, at, dataJson))
