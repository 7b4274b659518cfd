/**
 * The `harness` command line. One module per command under ./commands (asv's layout); this file only
 * composes them and turns domain errors into a message and an exit code.
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { rootCommand, VERSION } from "./root.js"
import { reportFailure } from "./report-failure.js"

Command.run(rootCommand, { version: VERSION }).pipe(
  Effect.catch((error) => reportFailure(error)),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
