/*
 * dnnl_gemm: float32 matrix products for the tfjs wasm backend, computed by oneDNN's sgemm directly on the wasm
 * heap. JS passes a view of the heap (a Uint8Array over the module's ArrayBuffer or SharedArrayBuffer) and a table
 * of products given as byte offsets into it; nothing is copied in or out. Every product is checked against the
 * view's length first, so a wrong offset is a JS exception rather than a write outside the heap.
 *
 * Threads: oneDNN here runs on OpenMP (Debian's build); the engine sizes that pool with setThreads. A table of
 * several products runs them one after another, each on the whole pool, in table order.
 *
 * Signals: held off while oneDNN runs (signals.h): its kernels move the stack pointer onto the heap, where a
 * signal's frame would be written.
 */
#include <node_api.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels.h"
#include "signals.h"

/* One product in the table: 11 uint32 fields (a 4 GiB heap's byte offsets fit). Offsets are in bytes from the
 * start of the view; transposes are 0 or 1. */
enum { F_TRANS_A, F_TRANS_B, F_M, F_N, F_K, F_A, F_LDA, F_B, F_LDB, F_C, F_LDC, FIELDS };

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "dnnl_gemm: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Bytes a row-major matrix of `rows` x `cols` with leading dimension `ld` spans (floats). */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : ((rows - 1) * ld + cols) * 4; }

/* gemm(heap: TypedArray, table: Uint32Array, count: number): C = op(A) op(B) for each of `count` products. */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return fail(env, "dnnl_gemm.gemm(heap, table, count): 3 arguments expected");
  uint8_t* heap;
  size_t heap_bytes;
  if (!native_typed_array_bytes(env, argv[0], &heap, &heap_bytes)) return fail(env, "dnnl_gemm.gemm: heap must be a typed array over the wasm memory");
  uint8_t* table_raw;
  size_t table_bytes;
  if (!native_typed_array_bytes(env, argv[1], &table_raw, &table_bytes)) return fail(env, "dnnl_gemm.gemm: table must be a Uint32Array");
  uint32_t count;
  CHECK(napi_get_value_uint32(env, argv[2], &count));
  if ((size_t)count * FIELDS * 4 > table_bytes) return fail(env, "dnnl_gemm.gemm: table shorter than count products");
  const uint32_t* table = (const uint32_t*)table_raw;
  for (uint32_t p = 0; p < count; p++) {
    const uint32_t* f = table + (size_t)p * FIELDS;
    int64_t M = f[F_M], N = f[F_N], K = f[F_K];
    if ((f[F_A] | f[F_B] | f[F_C]) & 3 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
      return fail(env, "dnnl_gemm.gemm: misaligned offset or a size past 2^31");
    int64_t a_rows = f[F_TRANS_A] ? K : M, a_cols = f[F_TRANS_A] ? M : K;
    int64_t b_rows = f[F_TRANS_B] ? N : K, b_cols = f[F_TRANS_B] ? K : N;
    if ((int64_t)f[F_LDA] < a_cols || (int64_t)f[F_LDB] < b_cols || (int64_t)f[F_LDC] < N) return fail(env, "dnnl_gemm.gemm: leading dimension below the row length");
    if ((uint64_t)f[F_A] + span(a_rows, a_cols, f[F_LDA]) > heap_bytes || (uint64_t)f[F_B] + span(b_rows, b_cols, f[F_LDB]) > heap_bytes ||
        (uint64_t)f[F_C] + span(M, N, f[F_LDC]) > heap_bytes)
      return fail(env, "dnnl_gemm.gemm: a product reaches past the end of the heap");
  }
  /* signals held off while oneDNN runs: its kernels move the stack pointer onto the heap (signals.h) */
  sigset_t old_mask;
  signals_hold(&old_mask);
  for (uint32_t p = 0; p < count; p++) {
    const uint32_t* f = table + (size_t)p * FIELDS;
    if (f[F_M] == 0 || f[F_N] == 0) continue;
    /* dnnl_sgemm is row-major: C[M,N] = alpha op(A) op(B) + beta C */
    dnnl_status_t s = dnnl_sgemm(f[F_TRANS_A] ? 'T' : 'N', f[F_TRANS_B] ? 'T' : 'N', (dnnl_dim_t)f[F_M], (dnnl_dim_t)f[F_N], (dnnl_dim_t)f[F_K], 1.0f,
                                 (const float*)(heap + f[F_A]), (dnnl_dim_t)f[F_LDA], (const float*)(heap + f[F_B]), (dnnl_dim_t)f[F_LDB], 0.0f,
                                 (float*)(heap + f[F_C]), (dnnl_dim_t)f[F_LDC]);
    if (s != dnnl_success) {
      signals_release(&old_mask);
      char message[128];
      snprintf(message, sizeof message, "dnnl_gemm.gemm: dnnl_sgemm failed with status %d", (int)s);
      return fail(env, message);
    }
  }
  signals_release(&old_mask);
  return NULL;
}

/* setThreads(n): the OpenMP pool oneDNN computes on, for this (the calling) thread's parallel regions. */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return fail(env, "dnnl_gemm.setThreads(n): n >= 1 expected");
  omp_set_num_threads(n);
  return NULL;
}

static napi_value string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* info(): { library, version, isa, runtime, maxThreads } of the oneDNN this addon is linked against, kernelsIsa and
 * kernelsCompiler: the vector instruction set kernels.c was compiled for, and by what. */
static napi_value info_fn(napi_env env, napi_callback_info info) {
  (void)info;
  const dnnl_version_t* v = dnnl_version();
  char version[64];
  snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
  napi_value out, threads;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "library", string(env, "oneDNN")));
  CHECK(napi_set_named_property(env, out, "version", string(env, version)));
  CHECK(napi_set_named_property(env, out, "isa", string(env, dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()))));
  CHECK(napi_set_named_property(env, out, "runtime", string(env, v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential" : "other")));
  CHECK(napi_create_int32(env, omp_get_max_threads(), &threads));
  CHECK(napi_set_named_property(env, out, "maxThreads", threads));
  CHECK(napi_set_named_property(env, out, "kernelsIsa", string(env, native_kernels_isa())));
  CHECK(napi_set_named_property(env, out, "kernelsCompiler", string(env, native_kernels_compiler())));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  /* kernels.c is compiled for the build machine's vector instructions (-march=native): on a CPU without them the
     addon refuses to load (the engine then says why and computes on WebAssembly) rather than fault later. */
  if (!native_kernels_cpu_ok()) {
    char message[160];
    snprintf(message, sizeof message, "dnnl_gemm: built for %s, which this CPU lacks: rebuild here with `npm run build:native`", native_kernels_isa());
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  napi_property_descriptor props[] = {
    { "gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL },
    { "setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL },
    { "info", NULL, info_fn, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return native_kernels_register(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
