/**
 * The environment fingerprint recorded with every run: what a result depends on besides config, code and
 * seed. `ledger diff` attributes a change to "environment" when these differ.
 */
import { cpus, platform, release, totalmem, arch } from "node:os"
import type { EngineInfo } from "../../models/engine/index.js"

export interface EnvironmentFingerprint {
  readonly node: string
  readonly os: string
  readonly arch: string
  readonly cpuModel: string
  readonly cpuCount: number
  readonly memoryGiB: number
  readonly engine: EngineInfo
}

export const environmentFingerprint = (engine: EngineInfo): EnvironmentFingerprint => ({
  node: process.version,
  os: `${platform()} ${release()}`,
  arch: arch(),
  cpuModel: cpus()[0]?.model.trim() ?? "unknown",
  cpuCount: cpus().length,
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  engine
})
