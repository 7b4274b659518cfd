/**
 * The ledger a dry run reads. A dry run writes nothing: an existing ledger is opened read-only (never migrated),
 * and a ledger that does not exist yet is stood in for by an empty one in memory (every job "to run") instead of
 * being created on disk.
 */
import { existsSync } from "node:fs"
import type { Layer } from "effect"
import type { LedgerError } from "../../ledger/errors.js"
import { Ledger } from "../../ledger/service.js"

export const dryRunLedgerLayer = (path: string): Layer.Layer<Ledger, LedgerError> =>
  existsSync(path) ? Ledger.layer(path, { readonly: true }) : Ledger.layer(":memory:")
