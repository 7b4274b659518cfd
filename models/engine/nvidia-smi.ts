/**
 * The NVIDIA driver's own view of its GPUs (`nvidia-smi --query-gpu`), when the tool exists: for `harness doctor`
 * and for the device memory a step is planned against (WebGPU does not report it).
 */
import { execFileSync } from "node:child_process"

export interface NvidiaGpu {
  readonly name: string
  readonly driverVersion: string
  readonly memoryTotalMiB: number
  readonly memoryUsedMiB: number
  readonly computeCapability: string
}

const FIELDS = ["name", "driver_version", "memory.total", "memory.used", "compute_cap"] as const

let cached: { gpus: NvidiaGpu[] } | { missing: string } | null = null

/** The GPUs nvidia-smi lists, or why there is nothing to list. Cached for the process. */
export const nvidiaSmi = (): { gpus: NvidiaGpu[] } | { missing: string } => {
  if (cached !== null) return cached
  try {
    const out = execFileSync("nvidia-smi", [`--query-gpu=${FIELDS.join(",")}`, "--format=csv,noheader,nounits"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 15_000
    })
    const gpus = out
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((line) => {
        const [name, driverVersion, total, used, cap] = line.split(",").map((x) => x.trim())
        return {
          name: name ?? "",
          driverVersion: driverVersion ?? "",
          memoryTotalMiB: Number(total),
          memoryUsedMiB: Number(used),
          computeCapability: cap ?? ""
        }
      })
    cached = gpus.length > 0 ? { gpus } : { missing: "nvidia-smi lists no GPU" }
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string }
    cached = {
      missing:
        err.code === "ENOENT"
          ? "nvidia-smi is not installed (no NVIDIA driver here)"
          : `nvidia-smi failed: ${(err.stderr ?? err.message).trim().split("\n")[0]}`
    }
  }
  return cached
}
