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
  BATCH_MATMUL_OVERRIDE,
  SEGMENT_SUM_KERNEL,
  installBatchMatMulOverride,
  GATHER_OVERRIDE,
  IDENTITY_OVERRIDE,
  TRANSPOSE_OVERRIDE,
  CAST_OVERRIDE,
  SLICE_OVERRIDE,
  installOneHotFix,
  installReductionAndGatherOverrides,
  installSegmentSumKernel,
  ONE_HOT_KERNEL,
  isBatchMatMulOverridden,
  restoreStockBatchMatMul,
  restoreStockReductionAndGather,
  SUM_OVERRIDE,
  FUSED_ADAMW_KERNEL,
  FUSED_ADAMW_KERNEL_NAME,
  hasFusedAdamW
} from "./wasm-kernels.js"
