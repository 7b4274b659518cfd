/** Prints a ledger command's result (text or JSON) and sets the process exit code from it. */
import { Console, Effect } from "effect"
import type { CommandResult } from "../../ledger/commands.js"

export const emit = (result: CommandResult, json = false): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (json && result.json !== undefined) yield* Console.log(JSON.stringify(result.json, null, 2))
    else if (result.exitCode === 2) yield* Console.error(`error: ${result.text}`)
    else yield* Console.log(result.text)
    if (result.exitCode !== 0) process.exitCode = result.exitCode
  })
