/* The addon's non-product kernels (kernels.c), registered beside the products by dnnl-gemm.c. */
#ifndef NATIVE_KERNELS_H
#define NATIVE_KERNELS_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* Adds binary, unary, reduce, softmax, transpose, segmentSum, adamw and the fused kernels (norm, normGrad,
 * maskedSoftmax, softmaxGrad, crossEntropy, crossEntropyGrad, swiglu,
 * swigluGrad, biasRelu, biasReluGrad) to `exports`; NULL on failure. */
napi_value native_kernels_register(napi_env env, napi_value exports);
/* The widest vector instruction set kernels.c was compiled for ("avx512", "avx2", "avx", "sse2"). */
const char* native_kernels_isa(void);
/* The compiler that built kernels.c, e.g. "gcc 12.2.0". */
const char* native_kernels_compiler(void);
/* A typed array's data and its length in bytes (any element type); 0 when `value` is not a typed array. Used by
 * both the products and the kernels to read the wasm heap and their argument tables. */
int native_typed_array_bytes(napi_env env, napi_value value, uint8_t** data, size_t* bytes);
/* 1 when this CPU has that instruction set. */
int native_kernels_cpu_ok(void);

#endif
