/** The compute engine: backend choice and the tuned wasm path. See backend.ts and the README's engine tables. */
export {
  BACKENDS,
  type BackendRequest,
  defaultThreads,
  describeEngine,
  type EngineInfo,
  type EngineOptions,
  initEngine,
  tensorflowNotInstalledMessage
} from "./backend.js"
export {
  type DawnBackend,
  describeAdapter,
  gpuDeviceNodes,
  probeWebGpu,
  type WebGpuAdapterRecord,
  type WebGpuProbe
} from "./webgpu.js"
export {
  installedOverrideLabels,
  installOverride,
  installOverrides,
  isOverrideInstalled,
  type KernelOverride,
  OVERRIDES,
  type OverrideSet,
  restoreOverride,
  restoreOverrides
} from "./kernels/override-table.js"
export { FUSED_ADAMW_KERNEL, FUSED_ADAMW_KERNEL_NAME, hasFusedAdamW } from "./kernels/fused-adamw.js"
export { batchMatMulLabel } from "./kernels/products.js"
