#!/usr/bin/env bash
# Submits a suite as a Slurm job array of N shards, and the merge to run once all of them succeeded.
#   scripts/cluster/submit.sh <suite> <N> [extra sbatch flags for the shards, e.g. --partition=cpu]
# The merged ledger lands in shards/<suite name>/merged.db (OUT_DIR overrides); see shard.sbatch for the rest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:?usage: submit.sh <suite> <N> [sbatch flags]}
n=${2:?usage: submit.sh <suite> <N> [sbatch flags]}
shift 2
export SUITE=$suite OUT_DIR=${OUT_DIR:-shards/$(basename "$suite" .json)} SHARD_COUNT=$n
array=$(sbatch --parsable --export=ALL --array="1-$n" "$@" "$here/shard.sbatch")
array=${array%%;*} # --parsable prints "id" or "id;cluster"
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/merge.sbatch")
echo "submitted shards as job $array (tasks 1-$n) and the merge as job ${merge%%;*}; the result: $OUT_DIR/merged.db"
