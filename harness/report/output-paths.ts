/**
 * Where `harness report` writes. The default folder is named after the suite, and plot file names come from the
 * ledger's contents, so both are checked: a suite name must match the suite-name pattern to become a folder, and
 * every file must resolve inside the output folder (no "../", no absolute path, no separator in a file name).
 */
import { isAbsolute, join, relative, resolve } from "node:path"
import { Effect } from "effect"
import { SUITE_NAME_PATTERN } from "../../suites/schema.js"
import { UsageError } from "../errors.js"

/** `--out` when given, else reports/<suite> for a suite name that is safe as a folder name. */
export const reportFolder = (suite: string, out: string | undefined): Effect.Effect<string, UsageError> =>
  Effect.suspend(() => {
    if (out !== undefined) return Effect.succeed(out)
    if (!SUITE_NAME_PATTERN.test(suite)) {
      return Effect.fail(
        new UsageError({
          message:
            `the suite name ${JSON.stringify(suite)} cannot name a folder (suite names are letters, digits, '.', '_' and '-'): ` +
            "pass --out <folder> to choose where the report goes"
        })
      )
    }
    return Effect.succeed(join("reports", suite))
  })

/** `folder/name`, refusing a name that would land outside `folder`. */
export const fileInside = (folder: string, name: string): Effect.Effect<string, UsageError> =>
  Effect.suspend(() => {
    const target = resolve(folder, name)
    const rel = relative(resolve(folder), target)
    if (
      name.length === 0 ||
      rel.length === 0 ||
      rel.startsWith("..") ||
      isAbsolute(rel) ||
      /[\\/]/.test(name) ||
      /[\x00-\x1f]/.test(name)
    ) {
      return Effect.fail(
        new UsageError({ message: `refusing to write report file ${JSON.stringify(name)}: it is not a plain file name inside ${folder}` })
      )
    }
    return Effect.succeed(target)
  })
