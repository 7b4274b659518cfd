#!/usr/bin/env bash
# Refresh the CI baseline ON PURPOSE (after a change that is meant to move the numbers): runs `smoke` on a fresh
# ledger and writes its hash-chained JSON Lines export to baselines/smoke.jsonl. Commit the new file with a message
# that says why the numbers moved; `git diff baselines/smoke.jsonl` shows exactly which values changed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node bin/harness.js run smoke --ledger "$work/baseline.db" --checkpoints "$work/checkpoints"
node bin/harness.js ledger export --ledger "$work/baseline.db" --format jsonl --out baselines/smoke.jsonl
echo "baselines/smoke.jsonl refreshed; review with: git diff baselines/smoke.jsonl"
