/**
 * The Slurm recipe (scripts/cluster), run here as a cluster would run it: submit.sh submits the shard array and
 * the merge to an `sbatch` stand-in that starts the array's N tasks as N concurrent processes (with the variables
 * Slurm sets) and the merge after them. The merged ledger must hold exactly the jobs of an unsharded run of the same
 * suite, verify, and check equal to it. Every harness call in the scripts is checked against the CLI too.
 */
import { spawn } from "node:child_process"
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { repoRoot, runHarness, scratch, tinySuite, writeSuite } from "../harness/helpers.js"
import { cliProblems, flagValue, harnessCalls, shellCommands, subcommandOf } from "./recipe-commands.js"

const script = (name: string) => join(repoRoot, "scripts", "cluster", name)

/**
 * `sbatch` as far as submit.sh uses it: --parsable prints the job id; --array=LO-HI runs the script once per task,
 * all at once, with SLURM_ARRAY_TASK_ID / _COUNT / SLURM_ARRAY_JOB_ID set; it returns when they are done (a real
 * sbatch returns at once, and --dependency=afterok holds the next job back until then). Every call is logged.
 */
const FAKE_SBATCH = `#!/usr/bin/env bash
set -uo pipefail
echo "$*" >> "$FAKE_SBATCH_DIR/calls"
array="" file=""
for a in "$@"; do
  case "$a" in
    --array=*) array=\${a#--array=} ;;
    -*) ;;
    *) file=$a ;;
  esac
done
id=$(( $(wc -l < "$FAKE_SBATCH_DIR/calls") + 1000 ))
if [ -n "$array" ]; then
  lo=\${array%-*} hi=\${array#*-} pids=()
  for i in $(seq "$lo" "$hi"); do
    SLURM_JOB_ID=$id SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) \\
      bash "$file" > "$FAKE_SBATCH_DIR/$id-$i.out" 2>&1 &
    pids+=($!)
  done
  for p in "\${pids[@]}"; do wait "$p" || exit 1; done
else
  SLURM_JOB_ID=$id bash "$file" > "$FAKE_SBATCH_DIR/$id.out" 2>&1 || exit 1
fi
echo "$id"
`

const bash = (args: ReadonlyArray<string>, env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
  new Promise((resolve) => {
    const child = spawn("bash", args, {
      cwd: repoRoot,
      env: { ...process.env, HARNESS_PROGRESS_INTERVAL_MS: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    child.on("close", (code) => resolve({ code, out }))
  })

const doneKeys = (file: string): string[] => {
  const store = LedgerStore.open(file)
  try {
    return store
      .jobs({ status: "done" })
      .map((j) => j.key)
      .sort()
  } finally {
    store.close()
  }
}

describe("scripts/cluster", () => {
  it("every harness call in the Slurm scripts is one the CLI accepts, shard i of N into shard-i.db", async () => {
    const shard = harnessCalls(shellCommands(readFileSync(script("shard.sbatch"), "utf8")))
    const merge = harnessCalls(shellCommands(readFileSync(script("merge.sbatch"), "utf8")))
    expect(shard.map(subcommandOf)).toEqual(["run"])
    expect(merge.map(subcommandOf)).toEqual(["ledger merge", "ledger verify", "ledger export"])
    for (const call of [...shard, ...merge]) expect(await cliProblems(call), `harness ${call.join(" ")}`).toEqual([])
    expect(flagValue(shard[0]!, "--shard")).toBe("$i/$n")
    expect(flagValue(shard[0]!, "--ledger")).toBe("$out/shard-$i.db")
    // the merge reads exactly what the shards write
    expect(merge[0]!.slice(2)).toEqual(["$out/merged.db", "${shards[@]}"])
    expect(readFileSync(script("merge.sbatch"), "utf8")).toContain('shards=("$out"/shard-*.db)')
  })

  it("submit.sh: N array tasks as N processes, then the merge; the merged ledger is the unsharded run's job set and verifies", {
    timeout: 600_000
  }, async () => {
    const dir = scratch("fope-cluster-")
    const suite = writeSuite(
      dir,
      tinySuite({
        name: "cluster",
        embeddings: ["rope", "fope", "nope"],
        training: { length: 16, steps: 3, batchSize: 2, learningRate: 0.003, warmupSteps: 1 }
      })
    )
    writeFileSync(join(dir, "sbatch"), FAKE_SBATCH)
    chmodSync(join(dir, "sbatch"), 0o755)
    const out = join(dir, "shards")
    const env = {
      PATH: `${dir}:${process.env.PATH}`,
      FAKE_SBATCH_DIR: dir,
      OUT_DIR: out,
      HARNESS: `${process.execPath} ${join(repoRoot, "bin", "harness.js")}`
    }
    const submitted = await bash([script("submit.sh"), suite, "2", "--partition=cpu"], env)
    // on failure, show what the tasks printed
    const logs = ["1001-1", "1001-2", "1002"]
      .map((f) => join(dir, `${f}.out`))
      .filter(existsSync)
      .map((f) => readFileSync(f, "utf8"))
    expect(submitted.code, [submitted.out, ...logs].join("\n")).toBe(0)
    expect(submitted.out).toMatch(/submitted shards as job 1001 \(tasks 1-2\) and the merge as job 1002/)
    // the merge waited for the array, by its id
    const calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n")
    expect(calls).toHaveLength(2)
    expect(calls[0]).toMatch(/--array=1-2 --partition=cpu .*shard\.sbatch$/)
    expect(calls[1]).toMatch(/--dependency=afterok:1001 .*merge\.sbatch$/)

    const shard1 = doneKeys(join(out, "shard-1.db"))
    const shard2 = doneKeys(join(out, "shard-2.db"))
    expect([shard1.length, shard2.length].sort()).toEqual([1, 2])
    expect(readFileSync(join(dir, "1002.out"), "utf8")).toMatch(/merged 2 shard ledgers/)

    // the same suite unsharded, on the shards' checkpoints (their final steps: only the evaluation runs again)
    const all = await runHarness(["run", suite, "--ledger", join(dir, "all.db"), "--checkpoints", join(out, "checkpoints")])
    expect(all.code, all.stderr).toBe(0)
    const merged = join(out, "merged.db")
    expect(doneKeys(merged)).toEqual(doneKeys(join(dir, "all.db")))
    expect(doneKeys(merged)).toEqual([...shard1, ...shard2].sort())
    const store = LedgerStore.open(merged)
    expect(store.verify().ok).toBe(true)
    store.close()
    expect(readFileSync(join(out, "merged.jsonl"), "utf8").trim().split("\n").length).toBeGreaterThan(6)
    // and numerically the same: nothing in the merged ledger differs from the unsharded run's
    const check = await runHarness([
      "check",
      "--baseline",
      join(dir, "all.db"),
      "--ledger",
      merged,
      "--candidate",
      merged,
      "--format",
      "json"
    ])
    expect(check.code).toBe(0)
    const verdicts = (JSON.parse(check.stdout) as { rows: Array<{ kind: string; verdict: string }> }).rows
      .filter((r) => r.kind === "deterministic")
      .map((r) => r.verdict)
    expect(verdicts.length).toBeGreaterThan(3)
    expect(new Set(verdicts)).toEqual(new Set(["unchanged"]))
  })

  it("a task outside a Slurm array, or without a suite, stops with what to set", async () => {
    const missing = await bash([script("shard.sbatch")], { SUITE: "smoke", SLURM_ARRAY_TASK_ID: "" })
    expect(missing.code).not.toBe(0)
    expect(missing.out).toMatch(/SLURM_ARRAY_TASK_ID.*sbatch --array=1-N/)
    const noSuite = await bash([script("shard.sbatch")], { SUITE: "" })
    expect(noSuite.code).not.toBe(0)
    expect(noSuite.out).toMatch(/set SUITE/)
  })
})
