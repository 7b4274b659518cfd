/*
 * Elementwise, reduction, softmax, copy and optimizer kernels for the tfjs wasm backend, computed in C straight on
 * the wasm heap (the tensors stay where tfjs put them), beside the oneDNN products of dnnl-gemm.c in the same addon.
 * models/engine/native-kernels.ts calls them for the cases they accept; every other case stays on the wasm kernels.
 *
 * Numerics: each kernel computes what the wasm kernel it replaces computes, float32 operation by float32 operation
 * (this file is compiled with -ffp-contract=off: no fused multiply-add, so every product and sum is rounded as
 * written), except where a comment says otherwise:
 *   - Add, Sub, Mul, RealDiv: one IEEE binary32 operation per element, as XNNPACK's binary operators;
 *   - Neg, Relu, Square, Sqrt, Rsqrt, Step: the stock kernels' results, signed zeros and NaN included (Relu as the
 *     integer max of the bits and 0, which is what the 4.22 binary returns for -0 and a negative NaN);
 *   - Exp: musl's expf (the ARM optimized-routines algorithm the wasm build links: double evaluation, a 32-entry
 *     table of 2^(i/32) and a cubic), transcribed below with the same constants;
 *   - Sum, Mean, Max over contiguous axes: the stock loops' order (each output accumulated from its first reduced
 *     element to its last), which the vector code keeps because it vectorises across outputs, never within one;
 *   - Softmax: NOT the stock kernel's numerics (XNNPACK's, with its own exp approximation): max, exp(x - max) by a
 *     float32 polynomial, a sum in a fixed order of 16 partial sums, one reciprocal per row (see softmax_rows);
 *   - Transpose, UnsortedSegmentSum: copies, and additions in index order as the JS kernel;
 *   - AdamW: the operations of wasm-adamw.ts in its order.
 * Threads: OpenMP (the pool dnnl-gemm.c sizes with setThreads), only above a size where a split pays; every output
 * element is computed whole by one thread, so the thread count never changes a bit. Each parallel region runs with
 * the asynchronous signals held off (signals.h), so that the pool's threads, whichever call creates them, inherit
 * a mask without them and no signal lands on a thread inside oneDNN's kernels.
 *
 * Every offset and extent is checked against the heap view's length before anything is read or written.
 */
#include "kernels.h"
#include "signals.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                         \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error(env, NULL, "native kernels: N-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

static napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Elements per call below which the kernels stay on the calling thread: the pool's threads sleep between regions
 * (OMP_WAIT_POLICY=PASSIVE, native-gemm.ts), and waking one costs more than a memory-bound pass over a [1024, 128]
 * tensor takes; the attention-sized tensors ([8, 4, 128, 128], 2^19 elements) and larger split. */
#define PARALLEL_MIN (1 << 19)

static int threads_for(size_t work) {
  if (work < PARALLEL_MIN) return 1;
  int t = omp_get_max_threads();
  return t < 1 ? 1 : t;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Arguments: (heap: TypedArray over the wasm memory, desc: Uint32Array[, float constants...]).
 */
typedef struct {
  uint8_t* heap;
  size_t heap_bytes;
  const uint32_t* desc;
  size_t desc_len;
} call_t;

int native_typed_array_bytes(napi_env env, napi_value value, uint8_t** data, size_t* bytes) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t length, offset;
  void* raw;
  napi_value buffer;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &offset) != napi_ok) return 0;
  size_t element = type == napi_int8_array || type == napi_uint8_array || type == napi_uint8_clamped_array ? 1
                 : type == napi_int16_array || type == napi_uint16_array ? 2
                 : type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8 : 4;
  *data = (uint8_t*)raw;
  *bytes = length * element;
  return 1;
}

/* Reads heap and descriptor; `extra` doubles after them into `numbers`. 0 and a pending exception on failure. */
static int args(napi_env env, napi_callback_info info, call_t* c, double* numbers, size_t extra, const char* name) {
  napi_value argv[12];
  size_t argc = 12;
  char message[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 + extra) {
    snprintf(message, sizeof message, "native kernels: %s expects (heap, desc%s)", name, extra > 0 ? ", constants" : "");
    napi_throw_error(env, NULL, message);
    return 0;
  }
  uint8_t* d;
  size_t db;
  if (!native_typed_array_bytes(env, argv[0], &c->heap, &c->heap_bytes) || !native_typed_array_bytes(env, argv[1], &d, &db)) {
    snprintf(message, sizeof message, "native kernels: %s: heap and desc must be typed arrays", name);
    napi_throw_error(env, NULL, message);
    return 0;
  }
  c->desc = (const uint32_t*)d;
  c->desc_len = db / 4;
  for (size_t i = 0; i < extra; i++) {
    if (napi_get_value_double(env, argv[2 + i], &numbers[i]) != napi_ok) {
      snprintf(message, sizeof message, "native kernels: %s: constant %zu is not a number", name, i);
      napi_throw_error(env, NULL, message);
      return 0;
    }
  }
  return 1;
}

/* A float32 region of `count` elements at byte offset `off`, or NULL when misaligned or past the heap. */
static float* region(const call_t* c, uint64_t off, uint64_t count) {
  if (off & 3) return NULL;
  if (off + count * 4 > c->heap_bytes) return NULL;
  return (float*)(c->heap + off);
}

/* ---------------------------------------------------------------------------------------------------------------
 * expf: musl src/math/expf.c (ARM optimized routines; ULP error 0.502), with __exp2f_data's constants, evaluated in
 * double without fused multiply-add as the WebAssembly build evaluates it. Branch-free in the common path so that
 * the loops below vectorise; the special cases (|x| >= 88, NaN) are patched after it.
 */
static const uint64_t EXP2F_T[32] = {
  0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
  0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
  0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
  0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
  0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
  0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
  0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
  0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define EXP2F_SHIFT 0x1.8p+52
#define EXP2F_INVLN2N 0x1.71547652b82fep+5
#define EXP2F_C0 (0x1.c6af84b912394p-5 / 32 / 32 / 32)
#define EXP2F_C1 (0x1.ebfce50fac4f3p-3 / 32 / 32)
#define EXP2F_C2 (0x1.62e42ff0c52d6p-1 / 32)

static inline uint32_t f2u(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline uint64_t d2u(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double u2d(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }
static inline float u2f(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* The common path of expf: musl evaluates it for every x in (-0x1.9fe368p6, 0x1.62e42ep6] (|x| >= 88 enters its
 * special branch but falls through to this path unless it overflows, underflows, is infinite or NaN). */
static inline float expf_core(float x) {
  double xd = (double)x;
  double z = EXP2F_INVLN2N * xd;
  double kd = z + EXP2F_SHIFT;
  uint64_t ki = d2u(kd);
  kd -= EXP2F_SHIFT;
  double r = z - kd;
  uint64_t t = EXP2F_T[ki % 32];
  t += ki << (52 - 5);
  double s = u2d(t);
  double zz = EXP2F_C0 * r + EXP2F_C1;
  double r2 = r * r;
  double y = EXP2F_C2 * r + 1;
  y = zz * r2 + y;
  y = y * s;
  return (float)y;
}

/* expf(x) as musl returns it, branch-free (so that loops over it vectorise): the core path for every x, then
 * musl's special results selected: x < -0x1.9fe368p6 (and -inf) underflows to +0, x > 0x1.62e42ep6 (and +inf)
 * overflows to +inf, NaN gives x + x. The core path on those inputs computes a value that is discarded. */
static inline float expf_musl(float x) {
  /* selects on the bits: written as conditionals, GCC branches around the core path and the loop stays scalar */
  uint32_t y = f2u(expf_core(x));
  const uint32_t under = -(uint32_t)(x < -0x1.9fe368p6f), over = -(uint32_t)(x > 0x1.62e42ep6f), nan = -(uint32_t)(x != x);
  y = (y & ~under & ~over) | (0x7f800000u & over);
  y = (y & ~nan) | (f2u(x + x) & nan);
  return u2f(y);
}

static void exp_rows(float* restrict o, const float* restrict x, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = expf_musl(x[i]);
}

/* ---------------------------------------------------------------------------------------------------------------
 * binary(heap, desc): desc = [op, rank, out, a, b, aShape[rank], bShape[rank]] (byte offsets; shapes right-aligned
 * to the output's rank, 1 where broadcast). Adjacent axes that stay contiguous for both operands are merged, so
 * most calls run one of three inner loops (both contiguous, a scalar b, a scalar a) over long rows.
 */
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, BINARY_OPS };
#define MAX_RANK 8

#define BINARY_LOOPS(NAME, EXPR)                                                                              \
  static void NAME##_vv(float* restrict o, const float* restrict a, const float* restrict b, size_t n) {      \
    for (size_t i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = (EXPR); }                              \
  }                                                                                                           \
  static void NAME##_vs(float* restrict o, const float* restrict a, const float* restrict b, size_t n) {      \
    const float y = b[0];                                                                                     \
    for (size_t i = 0; i < n; i++) { float x = a[i]; o[i] = (EXPR); }                                         \
  }                                                                                                           \
  static void NAME##_sv(float* restrict o, const float* restrict a, const float* restrict b, size_t n) {      \
    const float x = a[0];                                                                                     \
    for (size_t i = 0; i < n; i++) { float y = b[i]; o[i] = (EXPR); }                                         \
  }
BINARY_LOOPS(add, x + y)
BINARY_LOOPS(sub, x - y)
BINARY_LOOPS(mul, x * y)
BINARY_LOOPS(div, x / y)

typedef void (*row_fn)(float* restrict, const float* restrict, const float* restrict, size_t);
static const row_fn BINARY_ROWS[BINARY_OPS][3] = {
  { add_vv, add_vs, add_sv }, { sub_vv, sub_vs, sub_sv }, { mul_vv, mul_vs, mul_sv }, { div_vv, div_vs, div_sv },
};

typedef struct {
  int rank;                 /* merged axes; the last is the row */
  uint64_t n[MAX_RANK];     /* output extent per axis */
  uint64_t sa[MAX_RANK];    /* element strides of a and b (0: broadcast) */
  uint64_t sb[MAX_RANK];
} bcast_t;

static void run_binary(const bcast_t* g, row_fn fn, float* out, const float* a, const float* b, uint64_t o0, uint64_t o1) {
  /* rows o0..o1 of the outer index space (all axes but the last), in order */
  const int r = g->rank;
  const uint64_t len = g->n[r - 1];
  uint64_t idx[MAX_RANK] = { 0 };
  uint64_t rem = o0;
  for (int d = r - 2; d >= 0; d--) { idx[d] = rem % g->n[d]; rem /= g->n[d]; }
  for (uint64_t o = o0; o < o1; o++) {
    uint64_t ia = 0, ib = 0;
    for (int d = 0; d < r - 1; d++) { ia += idx[d] * g->sa[d]; ib += idx[d] * g->sb[d]; }
    fn(out + o * len, a + ia, b + ib, len);
    for (int d = r - 2; d >= 0; d--) {
      if (++idx[d] < g->n[d]) break;
      idx[d] = 0;
    }
  }
}

static napi_value binary(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "binary")) return NULL;
  if (c.desc_len < 5) return fail(env, "native kernels: binary: short descriptor");
  const uint32_t op = c.desc[0], rank = c.desc[1];
  if (op >= BINARY_OPS || rank < 1 || rank > MAX_RANK || c.desc_len < 5 + 2 * (size_t)rank) return fail(env, "native kernels: binary: bad op or rank");
  const uint32_t* as = c.desc + 5;
  const uint32_t* bs = as + rank;
  uint64_t n[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK], ca = 1, cb = 1, total = 1;
  for (int d = (int)rank - 1; d >= 0; d--) {
    if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1) return fail(env, "native kernels: binary: shapes do not broadcast");
    n[d] = as[d] > bs[d] ? as[d] : bs[d];
    if (as[d] == 0 || bs[d] == 0) n[d] = 0;
    sa[d] = as[d] == 1 ? 0 : ca;
    sb[d] = bs[d] == 1 ? 0 : cb;
    ca *= as[d];
    cb *= bs[d];
    total *= n[d];
  }
  float* out = region(&c, c.desc[2], total);
  const float* a = region(&c, c.desc[3], ca);
  const float* b = region(&c, c.desc[4], cb);
  if (out == NULL || a == NULL || b == NULL) return fail(env, "native kernels: binary: an operand is misaligned or reaches past the heap");
  if (total == 0) return NULL;
  /* drop size-1 axes, merge axes contiguous for both operands */
  bcast_t g = { .rank = 0 };
  for (uint32_t d = 0; d < rank; d++) {
    if (n[d] == 1) continue;
    int k = g.rank;
    if (k > 0 && g.sa[k - 1] == sa[d] * n[d] && g.sb[k - 1] == sb[d] * n[d]) {
      g.n[k - 1] *= n[d];
      g.sa[k - 1] = sa[d];
      g.sb[k - 1] = sb[d];
    } else {
      g.n[k] = n[d];
      g.sa[k] = sa[d];
      g.sb[k] = sb[d];
      g.rank++;
    }
  }
  if (g.rank == 0) { g.rank = 1; g.n[0] = 1; g.sa[0] = 1; g.sb[0] = 1; }
  const int r = g.rank;
  const uint64_t la = g.sa[r - 1], lb = g.sb[r - 1];
  row_fn fn;
  if (la == 1 && lb == 1) fn = BINARY_ROWS[op][0];
  else if (la == 1 && lb == 0) fn = BINARY_ROWS[op][1];
  else if (la == 0 && lb == 1) fn = BINARY_ROWS[op][2];
  else {
    /* the row is broadcast for both (both strides 0: only when every merged axis is size 1 for one side and the
       row axis for the other is too): add a unit row axis so each row is one element */
    if (r >= MAX_RANK) return fail(env, "native kernels: binary: too many axes");
    g.n[r] = 1; g.sa[r] = 1; g.sb[r] = 1; g.rank = r + 1;
    fn = BINARY_ROWS[op][0];
  }
  const uint64_t len = g.n[g.rank - 1];
  const uint64_t rows = total / len;
  const int threads = threads_for(total);
  if (threads <= 1 || rows < 2) {
    if (threads > 1 && rows == 1) {
      /* one long row: split it */
      sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
      signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        uint64_t chunk = ((len + nt - 1) / nt + 15) & ~(uint64_t)15;
        uint64_t s = (uint64_t)t * chunk, e = s + chunk > len ? len : s + chunk;
        if (s < e) fn(out + s, la ? a + s : a, lb ? b + s : b, e - s);
      }
      signals_release(&old_mask);
    } else {
      run_binary(&g, fn, out, a, b, 0, rows);
    }
  } else {
    sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
    signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), nt = omp_get_num_threads();
      uint64_t s = rows * t / nt, e = rows * (t + 1) / nt;
      run_binary(&g, fn, out, a, b, s, e);
    }
    signals_release(&old_mask);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * unary(heap, desc, alpha): desc = [op, out, x, count]. The stock kernels' expressions (see the header).
 */
enum { U_NEG, U_RELU, U_SQUARE, U_SQRT, U_RSQRT, U_EXP, U_STEP, UNARY_OPS };

static void unary_rows(uint32_t op, float* restrict o, const float* restrict x, size_t n, float alpha) {
  switch (op) {
    case U_NEG: for (size_t i = 0; i < n; i++) o[i] = -x[i]; break;
    case U_RELU: /* the stock kernel's integer max(bits, 0): -0, -NaN and negatives give +0, +NaN stays */
      for (size_t i = 0; i < n; i++) { int32_t b; memcpy(&b, &x[i], 4); b = b < 0 ? 0 : b; memcpy(&o[i], &b, 4); }
      break;
    case U_SQUARE: for (size_t i = 0; i < n; i++) o[i] = x[i] * x[i]; break;
    case U_SQRT: for (size_t i = 0; i < n; i++) o[i] = sqrtf(x[i]); break;
    case U_RSQRT: for (size_t i = 0; i < n; i++) o[i] = 1.0f / sqrtf(x[i]); break;
    case U_EXP: exp_rows(o, x, n); break;
    case U_STEP: for (size_t i = 0; i < n; i++) o[i] = isnan(x[i]) ? NAN : x[i] > 0.0f ? 1.0f : alpha; break;
  }
}

static napi_value unary(napi_env env, napi_callback_info info) {
  call_t c;
  double alpha;
  if (!args(env, info, &c, &alpha, 1, "unary")) return NULL;
  if (c.desc_len < 4 || c.desc[0] >= UNARY_OPS) return fail(env, "native kernels: unary: bad descriptor");
  const uint32_t op = c.desc[0];
  const uint64_t count = c.desc[3];
  float* out = region(&c, c.desc[1], count);
  const float* x = region(&c, c.desc[2], count);
  if (out == NULL || x == NULL) return fail(env, "native kernels: unary: an operand is misaligned or reaches past the heap");
  const int threads = threads_for(count);
  if (threads <= 1) {
    unary_rows(op, out, x, count, (float)alpha);
    return NULL;
  }
  sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
  signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    uint64_t chunk = ((count + nt - 1) / nt + 15) & ~(uint64_t)15;
    uint64_t s = (uint64_t)t * chunk, e = s + chunk > count ? count : s + chunk;
    if (s < e) unary_rows(op, out + s, x + s, e - s, (float)alpha);
  }
  signals_release(&old_mask);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * reduce(heap, desc): desc = [op, out, x, outer, size, inner]: x viewed as [outer, size, inner], out [outer, inner],
 * each output reduced over `size` in order. Ops:
 *   R_SUM       0 + x0 + x1 + ... (the stock Sum, which transposes the reduced axes innermost and starts from 0)
 *   R_SUM_FIRST x0 + x1 + ...     (the JS Sum over leading axes this replaces: it starts from the first row)
 *   R_MEAN      (0 + x0 + ...) / size, the division in float32 (the stock Mean)
 *   R_MAX       m = x0; m = x > m ? x : m (the stock Max)
 * With inner > 1 the loops run across the inner axis (one vector lane per output), each output still summed in
 * order; with inner = 1 eight rows at a time, one accumulator each.
 */
enum { R_SUM, R_SUM_FIRST, R_MEAN, R_MAX, REDUCE_OPS };

static void reduce_block(uint32_t op, float* restrict out, const float* restrict x, uint64_t size, uint64_t inner, uint64_t j0, uint64_t j1) {
  /* columns j0..j1 of one [size, inner] block */
  float* o = out + j0;
  const float* xs = x + j0;
  const uint64_t w = j1 - j0;
  if (op == R_MAX) {
    for (uint64_t j = 0; j < w; j++) o[j] = xs[j];
    for (uint64_t r = 0; r < size; r++) {
      const float* row = xs + r * inner;
      for (uint64_t j = 0; j < w; j++) o[j] = row[j] > o[j] ? row[j] : o[j];
    }
    return;
  }
  if (op == R_SUM_FIRST) {
    for (uint64_t j = 0; j < w; j++) o[j] = xs[j];
  } else {
    for (uint64_t j = 0; j < w; j++) o[j] = 0.0f + xs[j];
  }
  for (uint64_t r = 1; r < size; r++) {
    const float* row = xs + r * inner;
    for (uint64_t j = 0; j < w; j++) o[j] += row[j];
  }
  if (op == R_MEAN) {
    const float d = (float)size;
    for (uint64_t j = 0; j < w; j++) o[j] = o[j] / d;
  }
}

static void reduce_rows(uint32_t op, float* restrict out, const float* restrict x, uint64_t r0, uint64_t r1, uint64_t size) {
  /* out[r] = reduction of x[r, 0..size) for rows r0..r1 (inner = 1) */
  uint64_t r = r0;
  for (; r + 8 <= r1; r += 8) {
    const float* p = x + r * size;
    float acc[8];
    if (op == R_MAX) {
      for (int k = 0; k < 8; k++) acc[k] = p[k * size];
      for (uint64_t j = 0; j < size; j++)
        for (int k = 0; k < 8; k++) { float v = p[k * size + j]; acc[k] = v > acc[k] ? v : acc[k]; }
    } else {
      for (int k = 0; k < 8; k++) acc[k] = op == R_SUM_FIRST ? p[k * size] : 0.0f + p[k * size];
      for (uint64_t j = 1; j < size; j++)
        for (int k = 0; k < 8; k++) acc[k] += p[k * size + j];
      if (op == R_MEAN)
        for (int k = 0; k < 8; k++) acc[k] = acc[k] / (float)size;
    }
    for (int k = 0; k < 8; k++) out[r + k] = acc[k];
  }
  for (; r < r1; r++) reduce_block(op, out + r, x + r * size, size, 1, 0, 1);
}

static napi_value reduce(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "reduce")) return NULL;
  if (c.desc_len < 6 || c.desc[0] >= REDUCE_OPS) return fail(env, "native kernels: reduce: bad descriptor");
  const uint32_t op = c.desc[0];
  const uint64_t outer = c.desc[3], size = c.desc[4], inner = c.desc[5];
  if (size == 0) return fail(env, "native kernels: reduce: nothing to reduce");
  float* out = region(&c, c.desc[1], outer * inner);
  const float* x = region(&c, c.desc[2], outer * size * inner);
  if (out == NULL || x == NULL) return fail(env, "native kernels: reduce: an operand is misaligned or reaches past the heap");
  const int threads = threads_for(outer * size * inner);
  if (inner == 1) {
    if (threads <= 1 || outer < 16) reduce_rows(op, out, x, 0, outer, size);
    else {
      sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
      signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        uint64_t s = (outer * t / nt) & ~(uint64_t)7, e = t == nt - 1 ? outer : (outer * (t + 1) / nt) & ~(uint64_t)7;
        reduce_rows(op, out, x, s, e, size);
      }
      signals_release(&old_mask);
    }
    return NULL;
  }
  if (threads <= 1) {
    for (uint64_t o = 0; o < outer; o++) reduce_block(op, out + o * inner, x + o * size * inner, size, inner, 0, inner);
    return NULL;
  }
  sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
  signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    if (outer >= (uint64_t)nt) {
      for (uint64_t o = outer * t / nt; o < outer * (t + 1) / nt; o++) reduce_block(op, out + o * inner, x + o * size * inner, size, inner, 0, inner);
    } else {
      /* few blocks: split the columns (multiples of 16) */
      uint64_t chunk = ((inner + nt - 1) / nt + 15) & ~(uint64_t)15;
      uint64_t s = (uint64_t)t * chunk, e = s + chunk > inner ? inner : s + chunk;
      for (uint64_t o = 0; o < outer && s < e; o++) reduce_block(op, out + o * inner, x + o * size * inner, size, inner, s, e);
    }
  }
  signals_release(&old_mask);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * softmax(heap, desc): desc = [out, x, rows, cols]: each row shifted by its max, exponentiated, summed and scaled
 * by the reciprocal of the sum. Not the stock kernel's numerics (XNNPACK's own exp approximation and summation),
 * nor the cpu backend's (Math.exp, a float64 sum, a division): within a few ulp of both (the tests hold it to
 * 2e-6 relative), and the same bits on every run and thread count, because the order is fixed:
 *   - exp(d), d = x - max <= 0, in float32: d = n ln2 + r (n = round(d / ln2), ln2 split in two so that n ln2_hi
 *     is exact, |r| <= ln2 / 2), exp(r) by its Taylor polynomial to degree 7 (remainder < 6e-9 relative), times
 *     2^n built in the exponent bits; d below -87.3 (where 2^n leaves the normal range) gives 0, as does -inf;
 *   - the sum in SOFTMAX_LANES partial sums (element j into lane j mod SOFTMAX_LANES, in order), the lanes folded
 *     pairwise (lane k + w into lane k, w = 8, 4, 2, 1), then the elements past the last full group in order.
 * The stock Exp kernel's expf (above) is exact to musl's bits but evaluates in double with a table: about 3x the
 * cost, which a softmax pays on every attention score.
 */
#define SOFTMAX_LANES 16
#define LN2_HI 0x1.62e400p-1f /* ln 2 with its last 12 bits zero: n * LN2_HI is exact for |n| < 2^12 */
#define LN2_LO 0x1.7f7d1cp-20f /* ln 2 - LN2_HI */
#define LOG2E 0x1.715476p+0f
#define ROUND_MAGIC 0x1.8p23f /* adding it rounds a float in (-2^22, 2^22) to an integer, kept in the low bits */

static inline float exp_nonpositive(float d) {
  const float t = d * LOG2E + ROUND_MAGIC;
  const float n = t - ROUND_MAGIC;
  const uint32_t scale = (f2u(t) + 127u) << 23; /* 2^n: n sits in the low mantissa bits of t (two's complement) */
  float r = d - n * LN2_HI;
  r = r - n * LN2_LO;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t y = f2u(p * u2f(scale));
  const uint32_t zero = -(uint32_t)(d < -87.3f); /* also -inf; NaN passes through the arithmetic */
  return u2f(y & ~zero);
}

static void softmax_rows(float* restrict out, const float* restrict x, uint64_t r0, uint64_t r1, uint64_t cols) {
  const uint64_t full = cols / SOFTMAX_LANES * SOFTMAX_LANES;
  for (uint64_t r = r0; r < r1; r++) {
    const float* restrict xr = x + r * cols;
    float* restrict o = out + r * cols;
    /* the max of x > m ? x : m from m = x0, lane by lane (the order of a max does not matter; a NaN first
       element stays, later NaNs are skipped, as in the sequential loop) */
    float lane[SOFTMAX_LANES];
    for (int k = 0; k < SOFTMAX_LANES; k++) lane[k] = xr[0];
    for (uint64_t j = 0; j < full; j += SOFTMAX_LANES)
      for (int k = 0; k < SOFTMAX_LANES; k++) { /* the select on the bits, so that it vectorises */
        const uint32_t take = -(uint32_t)(xr[j + k] > lane[k]);
        lane[k] = u2f((f2u(xr[j + k]) & take) | (f2u(lane[k]) & ~take));
      }
    for (int w = SOFTMAX_LANES / 2; w >= 1; w /= 2) /* lanes folded pairwise: k with k + w */
      for (int k = 0; k < w; k++) {
        const uint32_t take = -(uint32_t)(lane[k + w] > lane[k]);
        lane[k] = u2f((f2u(lane[k + w]) & take) | (f2u(lane[k]) & ~take));
      }
    float m = lane[0];
    for (uint64_t j = full; j < cols; j++) m = xr[j] > m ? xr[j] : m;
    for (uint64_t j = 0; j < cols; j++) o[j] = exp_nonpositive(xr[j] - m);
    for (int k = 0; k < SOFTMAX_LANES; k++) lane[k] = 0.0f;
    for (uint64_t j = 0; j < full; j += SOFTMAX_LANES)
      for (int k = 0; k < SOFTMAX_LANES; k++) lane[k] += o[j + k];
    for (int w = SOFTMAX_LANES / 2; w >= 1; w /= 2)
      for (int k = 0; k < w; k++) lane[k] += lane[k + w];
    float s = lane[0];
    for (uint64_t j = full; j < cols; j++) s += o[j];
    const float inv = 1.0f / s;
    for (uint64_t j = 0; j < cols; j++) o[j] = o[j] * inv;
  }
}

static napi_value softmax(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "softmax")) return NULL;
  if (c.desc_len < 4) return fail(env, "native kernels: softmax: bad descriptor");
  const uint64_t rows = c.desc[2], cols = c.desc[3];
  float* out = region(&c, c.desc[0], rows * cols);
  const float* x = region(&c, c.desc[1], rows * cols);
  if (out == NULL || x == NULL || cols == 0) return fail(env, "native kernels: softmax: an operand is misaligned, empty or reaches past the heap");
  const int threads = threads_for(rows * cols);
  if (threads <= 1 || rows < 2) {
    softmax_rows(out, x, 0, rows, cols);
    return NULL;
  }
  sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
  signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    softmax_rows(out, x, rows * t / nt, rows * (t + 1) / nt, cols);
  }
  signals_release(&old_mask);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * transpose(heap, desc): desc = [out, x, rank, shape[rank], perm[rank]] for 4-byte elements (float32, int32):
 * out[i_perm[0], .., i_perm[rank-1]] = x[i_0, .., i_rank-1]. The output is written in order; a run of elements
 * contiguous in both (the innermost axis kept last) is one memcpy.
 */
static void transpose_range(uint32_t* out, const uint32_t* x, int r, const uint64_t* on, const uint64_t* xs, uint64_t o0, uint64_t o1) {
  /* on: output extents; xs: the input stride of each output axis; rows o0..o1 of the outer space */
  const uint64_t len = on[r - 1], s = xs[r - 1];
  uint64_t idx[MAX_RANK] = { 0 };
  uint64_t rem = o0;
  for (int d = r - 2; d >= 0; d--) { idx[d] = rem % on[d]; rem /= on[d]; }
  for (uint64_t o = o0; o < o1; o++) {
    uint64_t ix = 0;
    for (int d = 0; d < r - 1; d++) ix += idx[d] * xs[d];
    uint32_t* dst = out + o * len;
    const uint32_t* src = x + ix;
    if (s == 1 && len <= 64) /* short rows (a head of 32 floats): a loop the compiler unrolls beats a memcpy call */
      for (uint64_t j = 0; j < len; j++) dst[j] = src[j];
    else if (s == 1)
      memcpy(dst, src, len * 4);
    else
      for (uint64_t j = 0; j < len; j++) dst[j] = src[j * s];
    for (int d = r - 2; d >= 0; d--) {
      if (++idx[d] < on[d]) break;
      idx[d] = 0;
    }
  }
}

static napi_value transpose(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "transpose")) return NULL;
  if (c.desc_len < 3) return fail(env, "native kernels: transpose: bad descriptor");
  const uint32_t rank = c.desc[2];
  if (rank < 1 || rank > MAX_RANK || c.desc_len < 3 + 2 * (size_t)rank) return fail(env, "native kernels: transpose: bad rank");
  const uint32_t* shape = c.desc + 3;
  const uint32_t* perm = shape + rank;
  uint64_t stride[MAX_RANK], total = 1;
  unsigned seen = 0;
  for (int d = (int)rank - 1; d >= 0; d--) { stride[d] = total; total *= shape[d]; }
  for (uint32_t d = 0; d < rank; d++) {
    if (perm[d] >= rank || (seen >> perm[d] & 1)) return fail(env, "native kernels: transpose: perm is not a permutation");
    seen |= 1u << perm[d];
  }
  uint32_t* out = (uint32_t*)region(&c, c.desc[0], total);
  const uint32_t* x = (const uint32_t*)region(&c, c.desc[1], total);
  if (out == NULL || x == NULL) return fail(env, "native kernels: transpose: an operand is misaligned or reaches past the heap");
  if (total == 0) return NULL;
  /* output axes (size > 1), merged where consecutive in the output and in the input */
  uint64_t on[MAX_RANK], xs[MAX_RANK];
  int r = 0;
  for (uint32_t d = 0; d < rank; d++) {
    const uint64_t n = shape[perm[d]], s = stride[perm[d]];
    if (n == 1) continue;
    if (r > 0 && xs[r - 1] == s * n) {
      on[r - 1] *= n;
      xs[r - 1] = s;
    } else {
      on[r] = n;
      xs[r] = s;
      r++;
    }
  }
  if (r == 0) { r = 1; on[0] = 1; xs[0] = 1; }
  const uint64_t rows = total / on[r - 1];
  const int threads = threads_for(total);
  if (threads <= 1 || rows < 2) transpose_range(out, x, r, on, xs, 0, rows);
  else {
    sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
    signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), nt = omp_get_num_threads();
      transpose_range(out, x, r, on, xs, rows * t / nt, rows * (t + 1) / nt);
    }
    signals_release(&old_mask);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * segmentSum(heap, desc): desc = [out, x, ids, count, inner, numSegments]: out = 0; for i in order, out[ids[i]] +=
 * x[i] (ids outside [0, numSegments) dropped), as the JS UnsortedSegmentSum (float32).
 */
static napi_value segment_sum(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "segmentSum")) return NULL;
  if (c.desc_len < 6) return fail(env, "native kernels: segmentSum: bad descriptor");
  const uint64_t count = c.desc[3], inner = c.desc[4], segments = c.desc[5];
  float* out = region(&c, c.desc[0], segments * inner);
  const float* x = region(&c, c.desc[1], count * inner);
  const int32_t* ids = (const int32_t*)region(&c, c.desc[2], count);
  if (out == NULL || x == NULL || ids == NULL) return fail(env, "native kernels: segmentSum: an operand is misaligned or reaches past the heap");
  memset(out, 0, segments * inner * 4);
  for (uint64_t i = 0; i < count; i++) {
    const int32_t s = ids[i];
    if (s < 0 || (uint64_t)s >= segments) continue;
    float* restrict o = out + (uint64_t)s * inner;
    const float* restrict xi = x + i * inner;
    for (uint64_t j = 0; j < inner; j++) o[j] += xi[j];
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * adamw(heap, desc, scale, b1, omb1, b2, omb2, decay, sc2, eps, step): desc = [p, m, v, g, outP, outM, outV, count];
 * the float32 operations of wasm-adamw.ts in its order:
 *   g' = g scale; m' = m b1 + g' omb1; v' = v b2 + (g' g') omb2; p' = p decay - (m' / (sqrt(v') / sc2 + eps)) step
 */
static void adamw_rows(uint64_t n, const float* restrict p, const float* restrict m, const float* restrict v, const float* restrict g,
                       float* restrict op, float* restrict om, float* restrict ov, const double* k) {
  const float scale = (float)k[0], b1 = (float)k[1], omb1 = (float)k[2], b2 = (float)k[3], omb2 = (float)k[4];
  const float decay = (float)k[5], sc2 = (float)k[6], eps = (float)k[7], step = (float)k[8];
  for (uint64_t i = 0; i < n; i++) {
    const float gi = g[i] * scale;
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    om[i] = mi;
    ov[i] = vi;
    op[i] = p[i] * decay - (mi / (sqrtf(vi) / sc2 + eps)) * step;
  }
}

static napi_value adamw(napi_env env, napi_callback_info info) {
  call_t c;
  double k[9];
  if (!args(env, info, &c, k, 9, "adamw")) return NULL;
  if (c.desc_len < 8) return fail(env, "native kernels: adamw: bad descriptor");
  const uint64_t n = c.desc[7];
  const float* p = region(&c, c.desc[0], n);
  const float* m = region(&c, c.desc[1], n);
  const float* v = region(&c, c.desc[2], n);
  const float* g = region(&c, c.desc[3], n);
  float* op = region(&c, c.desc[4], n);
  float* om = region(&c, c.desc[5], n);
  float* ov = region(&c, c.desc[6], n);
  if (!p || !m || !v || !g || !op || !om || !ov) return fail(env, "native kernels: adamw: an operand is misaligned or reaches past the heap");
  adamw_rows(n, p, m, v, g, op, om, ov, k);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Fused forward and backward kernels of the models' op chains (models/engine/kernels/fused.ts): each replaces a chain
 * of tfjs ops (and the chain of their gradients) by one pass, so a step makes fewer kernel calls and fewer passes over
 * its activations. NOT the op chains' numerics: the sums below run in a fixed order of FUSED_LANES partial sums (the
 * lanes folded pairwise, then the tail in order), so every result is the same on every run and thread count, and
 * agrees with the op chain (and the cpu backend) to within a few ulp of the sums; the tests hold a decoder's loss
 * and gradients to 1e-5 relative of the cpu backend.
 */
#define FUSED_LANES 16
#define NO_TENSOR 0xffffffffu

static float lane_sum(const float* restrict x, uint64_t n) {
  const uint64_t full = n / FUSED_LANES * FUSED_LANES;
  float lane[FUSED_LANES] = { 0 };
  for (uint64_t j = 0; j < full; j += FUSED_LANES)
    for (int k = 0; k < FUSED_LANES; k++) lane[k] += x[j + k];
  for (int w = FUSED_LANES / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) lane[k] += lane[k + w];
  float s = lane[0];
  for (uint64_t j = full; j < n; j++) s += x[j];
  return s;
}

static float lane_dot(const float* restrict x, const float* restrict y, uint64_t n) {
  const uint64_t full = n / FUSED_LANES * FUSED_LANES;
  float lane[FUSED_LANES] = { 0 };
  for (uint64_t j = 0; j < full; j += FUSED_LANES)
    for (int k = 0; k < FUSED_LANES; k++) lane[k] += x[j + k] * y[j + k];
  for (int w = FUSED_LANES / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) lane[k] += lane[k + w];
  float s = lane[0];
  for (uint64_t j = full; j < n; j++) s += x[j] * y[j];
  return s;
}

/* sum of (x - c)^2 */
static float lane_centered_squares(const float* restrict x, float c, uint64_t n) {
  const uint64_t full = n / FUSED_LANES * FUSED_LANES;
  float lane[FUSED_LANES] = { 0 };
  for (uint64_t j = 0; j < full; j += FUSED_LANES)
    for (int k = 0; k < FUSED_LANES; k++) { const float d = x[j + k] - c; lane[k] += d * d; }
  for (int w = FUSED_LANES / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) lane[k] += lane[k + w];
  float s = lane[0];
  for (uint64_t j = full; j < n; j++) { const float d = x[j] - c; s += d * d; }
  return s;
}

/* A row's centre (its mean for LayerNorm, 0 for RMSNorm) and 1 / sqrt(variance or mean square + eps). */
static inline void norm_stats(const float* restrict x, uint64_t n, int layer, float eps, float* centre, float* rstd) {
  const float c = layer ? lane_sum(x, n) / (float)n : 0.0f;
  *centre = c;
  *rstd = 1.0f / sqrtf(lane_centered_squares(x, c, n) / (float)n + eps);
}

/* norm(heap, desc, eps): desc = [out, x, gain, bias or NO_TENSOR, rows, cols, kind]; kind 0: LayerNorm,
 * (x - mean) / sqrt(var + eps) * gain + bias (var the biased variance); kind 1: RMSNorm, x / sqrt(mean(x^2) + eps) * gain. */
static napi_value norm(napi_env env, napi_callback_info info) {
  call_t c;
  double k[1];
  if (!args(env, info, &c, k, 1, "norm")) return NULL;
  if (c.desc_len < 7) return fail(env, "native kernels: norm: bad descriptor");
  const uint64_t rows = c.desc[4], cols = c.desc[5];
  const int layer = c.desc[6] == 0;
  float* out = region(&c, c.desc[0], rows * cols);
  const float* x = region(&c, c.desc[1], rows * cols);
  const float* g = region(&c, c.desc[2], cols);
  const float* b = c.desc[3] == NO_TENSOR ? NULL : region(&c, c.desc[3], cols);
  if (out == NULL || x == NULL || g == NULL || (c.desc[3] != NO_TENSOR && b == NULL) || cols == 0)
    return fail(env, "native kernels: norm: an operand is misaligned, empty or reaches past the heap");
  const float eps = (float)k[0];
  for (uint64_t r = 0; r < rows; r++) {
    const float* restrict xr = x + r * cols;
    float* restrict o = out + r * cols;
    float centre, rstd;
    norm_stats(xr, cols, layer, eps, &centre, &rstd);
    if (b != NULL)
      for (uint64_t j = 0; j < cols; j++) o[j] = (xr[j] - centre) * rstd * g[j] + b[j];
    else
      for (uint64_t j = 0; j < cols; j++) o[j] = (xr[j] - centre) * rstd * g[j];
  }
  return NULL;
}

/* normGrad(heap, desc, eps): desc = [dx, dgain, dbias or NO_TENSOR, dy, x, gain, rows, cols, kind]: with xh = (x - centre)
 * rstd and gd = dy gain, per row: dx = rstd (gd - mean(gd) - xh mean(gd xh)) for LayerNorm, rstd (gd - xh mean(gd xh))
 * for RMSNorm; dgain = sum over rows of dy xh, dbias = sum of dy, both accumulated row by row in order. */
static napi_value norm_grad(napi_env env, napi_callback_info info) {
  call_t c;
  double k[1];
  if (!args(env, info, &c, k, 1, "normGrad")) return NULL;
  if (c.desc_len < 9) return fail(env, "native kernels: normGrad: bad descriptor");
  const uint64_t rows = c.desc[6], cols = c.desc[7];
  const int layer = c.desc[8] == 0;
  float* dx = region(&c, c.desc[0], rows * cols);
  float* dg = region(&c, c.desc[1], cols);
  float* db = c.desc[2] == NO_TENSOR ? NULL : region(&c, c.desc[2], cols);
  const float* dy = region(&c, c.desc[3], rows * cols);
  const float* x = region(&c, c.desc[4], rows * cols);
  const float* g = region(&c, c.desc[5], cols);
  if (dx == NULL || dg == NULL || (c.desc[2] != NO_TENSOR && db == NULL) || dy == NULL || x == NULL || g == NULL || cols == 0 || cols > 65536)
    return fail(env, "native kernels: normGrad: an operand is misaligned, empty, too wide or reaches past the heap");
  const float eps = (float)k[0];
  float xh[cols], gd[cols];
  memset(dg, 0, cols * 4);
  if (db != NULL) memset(db, 0, cols * 4);
  for (uint64_t r = 0; r < rows; r++) {
    const float* restrict xr = x + r * cols;
    const float* restrict dyr = dy + r * cols;
    float* restrict o = dx + r * cols;
    float centre, rstd;
    norm_stats(xr, cols, layer, eps, &centre, &rstd);
    for (uint64_t j = 0; j < cols; j++) {
      xh[j] = (xr[j] - centre) * rstd;
      gd[j] = dyr[j] * g[j];
    }
    const float a = layer ? lane_sum(gd, cols) / (float)cols : 0.0f;
    const float m = lane_dot(gd, xh, cols) / (float)cols;
    for (uint64_t j = 0; j < cols; j++) o[j] = rstd * (gd[j] - a - xh[j] * m);
    for (uint64_t j = 0; j < cols; j++) dg[j] += dyr[j] * xh[j];
    if (db != NULL)
      for (uint64_t j = 0; j < cols; j++) db[j] += dyr[j];
  }
  return NULL;
}

static void masked_softmax_rows(float* restrict out, const float* restrict x, const float* restrict mask, uint64_t mask_rows,
                                uint64_t r0, uint64_t r1, uint64_t cols) {
  if (mask == NULL) {
    softmax_rows(out, x, r0, r1, cols);
    return;
  }
  float row[cols]; /* x + mask of one row, then softmax_rows' steps from it (cols is checked at the call) */
  for (uint64_t r = r0; r < r1; r++) {
    const float* restrict xr = x + r * cols;
    const float* restrict mr = mask + (r % mask_rows) * cols;
    for (uint64_t j = 0; j < cols; j++) row[j] = xr[j] + mr[j];
    softmax_rows(out + r * cols, row, 0, 1, cols);
  }
}

/* maskedSoftmax(heap, desc): desc = [out, x, mask or NO_TENSOR, rows, cols, maskRows]: softmax(x + mask) over each
 * row, row r taking mask row r mod maskRows (a [T, keys] mask broadcast over batch and heads). */
static napi_value masked_softmax(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "maskedSoftmax")) return NULL;
  if (c.desc_len < 6) return fail(env, "native kernels: maskedSoftmax: bad descriptor");
  const uint64_t rows = c.desc[3], cols = c.desc[4], mask_rows = c.desc[5];
  float* out = region(&c, c.desc[0], rows * cols);
  const float* x = region(&c, c.desc[1], rows * cols);
  const float* mask = c.desc[2] == NO_TENSOR ? NULL : region(&c, c.desc[2], mask_rows * cols);
  if (out == NULL || x == NULL || (c.desc[2] != NO_TENSOR && (mask == NULL || mask_rows == 0)) || cols == 0 || cols > 65536)
    return fail(env, "native kernels: maskedSoftmax: an operand is misaligned, empty, too wide or reaches past the heap");
  const int threads = threads_for(rows * cols);
  if (threads <= 1 || rows < 2) {
    masked_softmax_rows(out, x, mask, mask_rows, 0, rows, cols);
    return NULL;
  }
  sigset_t old_mask; /* signals.h: a pool thread created in this region keeps the held mask */
  signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    masked_softmax_rows(out, x, mask, mask_rows, rows * t / nt, rows * (t + 1) / nt, cols);
  }
  signals_release(&old_mask);
  return NULL;
}

static void softmax_grad_rows(float* restrict dx, const float* restrict p, const float* restrict dy, uint64_t r0, uint64_t r1, uint64_t cols) {
  for (uint64_t r = r0; r < r1; r++) {
    const float* restrict pr = p + r * cols;
    const float* restrict dyr = dy + r * cols;
    float* restrict o = dx + r * cols;
    const float s = lane_dot(pr, dyr, cols);
    for (uint64_t j = 0; j < cols; j++) o[j] = pr[j] * (dyr[j] - s);
  }
}

/* softmaxGrad(heap, desc): desc = [dx, p, dy, rows, cols]: dx = p (dy - sum(p dy)) over each row. */
static napi_value softmax_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "softmaxGrad")) return NULL;
  if (c.desc_len < 5) return fail(env, "native kernels: softmaxGrad: bad descriptor");
  const uint64_t rows = c.desc[3], cols = c.desc[4];
  float* dx = region(&c, c.desc[0], rows * cols);
  const float* p = region(&c, c.desc[1], rows * cols);
  const float* dy = region(&c, c.desc[2], rows * cols);
  if (dx == NULL || p == NULL || dy == NULL || cols == 0)
    return fail(env, "native kernels: softmaxGrad: an operand is misaligned, empty or reaches past the heap");
  const int threads = threads_for(rows * cols);
  if (threads <= 1 || rows < 2) {
    softmax_grad_rows(dx, p, dy, 0, rows, cols);
    return NULL;
  }
  sigset_t old_mask;
  signals_hold(&old_mask);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    softmax_grad_rows(dx, p, dy, rows * t / nt, rows * (t + 1) / nt, cols);
  }
  signals_release(&old_mask);
  return NULL;
}

/* A row's max and log of the sum of exp(x - max) (log-sum-exp = max + that). */
static inline void row_lse(const float* restrict xr, uint64_t cols, float* max, float* log_sum) {
  float m = xr[0];
  for (uint64_t j = 1; j < cols; j++) m = xr[j] > m ? xr[j] : m;
  const uint64_t full = cols / FUSED_LANES * FUSED_LANES;
  float lane[FUSED_LANES] = { 0 };
  for (uint64_t j = 0; j < full; j += FUSED_LANES)
    for (int k = 0; k < FUSED_LANES; k++) lane[k] += exp_nonpositive(xr[j + k] - m);
  for (int w = FUSED_LANES / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) lane[k] += lane[k + w];
  float s = lane[0];
  for (uint64_t j = full; j < cols; j++) s += exp_nonpositive(xr[j] - m);
  *max = m;
  *log_sum = logf(s);
}

/* crossEntropy(heap, desc): desc = [loss (1 float), logits, targets (int32), rows, cols]: the mean over rows of
 * logsumexp(row) - row[target], the rows' terms summed in order in double. A target outside [0, cols) reads as a
 * logit of 0 (tfjs's one-hot of such an id is all zero). */
static napi_value cross_entropy(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "crossEntropy")) return NULL;
  if (c.desc_len < 5) return fail(env, "native kernels: crossEntropy: bad descriptor");
  const uint64_t rows = c.desc[3], cols = c.desc[4];
  float* loss = region(&c, c.desc[0], 1);
  const float* x = region(&c, c.desc[1], rows * cols);
  const int32_t* t = (const int32_t*)region(&c, c.desc[2], rows);
  if (loss == NULL || x == NULL || t == NULL || cols == 0 || rows == 0)
    return fail(env, "native kernels: crossEntropy: an operand is misaligned, empty or reaches past the heap");
  double total = 0;
  for (uint64_t r = 0; r < rows; r++) {
    const float* restrict xr = x + r * cols;
    float m, ls;
    row_lse(xr, cols, &m, &ls);
    const float picked = t[r] >= 0 && (uint64_t)t[r] < cols ? xr[t[r]] : 0.0f;
    total += (double)((m - picked) + ls);
  }
  *loss = (float)(total / (double)rows);
  return NULL;
}

/* crossEntropyGrad(heap, desc): desc = [dx, logits, targets, dy (1 float), rows, cols]:
 * dx = (softmax(row) - onehot(target)) dy / rows. */
static napi_value cross_entropy_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "crossEntropyGrad")) return NULL;
  if (c.desc_len < 6) return fail(env, "native kernels: crossEntropyGrad: bad descriptor");
  const uint64_t rows = c.desc[4], cols = c.desc[5];
  float* dx = region(&c, c.desc[0], rows * cols);
  const float* x = region(&c, c.desc[1], rows * cols);
  const int32_t* t = (const int32_t*)region(&c, c.desc[2], rows);
  const float* dy = region(&c, c.desc[3], 1);
  if (dx == NULL || x == NULL || t == NULL || dy == NULL || cols == 0 || rows == 0)
    return fail(env, "native kernels: crossEntropyGrad: an operand is misaligned, empty or reaches past the heap");
  const float scale = dy[0] / (float)rows;
  for (uint64_t r = 0; r < rows; r++) {
    const float* restrict xr = x + r * cols;
    float* restrict o = dx + r * cols;
    float m, ls;
    row_lse(xr, cols, &m, &ls);
    const float lse = m + ls;
    for (uint64_t j = 0; j < cols; j++) o[j] = exp_nonpositive(xr[j] - lse) * scale;
    if (t[r] >= 0 && (uint64_t)t[r] < cols) o[t[r]] -= scale;
  }
  return NULL;
}

/* swiglu(heap, desc): desc = [out, a, b, count]: out = a sigmoid(a) b, sigmoid(a) = 1 / (1 + exp(-a)) with musl's expf.
 * swigluGrad(heap, desc): desc = [da, db, dy, a, b, count]: with s = sigmoid(a), db = dy a s,
 * da = dy b s (1 + a (1 - s)). */
static inline float sigmoid_musl(float a) { return 1.0f / (1.0f + expf_musl(-a)); }

static napi_value swiglu(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "swiglu")) return NULL;
  if (c.desc_len < 4) return fail(env, "native kernels: swiglu: bad descriptor");
  const uint64_t n = c.desc[3];
  float* restrict out = region(&c, c.desc[0], n);
  const float* restrict a = region(&c, c.desc[1], n);
  const float* restrict b = region(&c, c.desc[2], n);
  if (out == NULL || a == NULL || b == NULL) return fail(env, "native kernels: swiglu: an operand is misaligned or reaches past the heap");
  for (uint64_t i = 0; i < n; i++) out[i] = a[i] * sigmoid_musl(a[i]) * b[i];
  return NULL;
}

static napi_value swiglu_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "swigluGrad")) return NULL;
  if (c.desc_len < 6) return fail(env, "native kernels: swigluGrad: bad descriptor");
  const uint64_t n = c.desc[5];
  float* restrict da = region(&c, c.desc[0], n);
  float* restrict db = region(&c, c.desc[1], n);
  const float* restrict dy = region(&c, c.desc[2], n);
  const float* restrict a = region(&c, c.desc[3], n);
  const float* restrict b = region(&c, c.desc[4], n);
  if (da == NULL || db == NULL || dy == NULL || a == NULL || b == NULL)
    return fail(env, "native kernels: swigluGrad: an operand is misaligned or reaches past the heap");
  for (uint64_t i = 0; i < n; i++) {
    const float s = sigmoid_musl(a[i]);
    db[i] = dy[i] * (a[i] * s);
    da[i] = dy[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
  }
  return NULL;
}

/* biasRelu(heap, desc): desc = [out, x, bias, rows, cols]: out = relu(x + bias), bias [cols] added to every row.
 * biasReluGrad(heap, desc): desc = [dx, dbias, dy, y, rows, cols]: dx = dy where y > 0, else 0; dbias = the column
 * sums of dx, accumulated row by row in order. */
static napi_value bias_relu(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "biasRelu")) return NULL;
  if (c.desc_len < 5) return fail(env, "native kernels: biasRelu: bad descriptor");
  const uint64_t rows = c.desc[3], cols = c.desc[4];
  float* restrict out = region(&c, c.desc[0], rows * cols);
  const float* restrict x = region(&c, c.desc[1], rows * cols);
  const float* restrict b = region(&c, c.desc[2], cols);
  if (out == NULL || x == NULL || b == NULL) return fail(env, "native kernels: biasRelu: an operand is misaligned or reaches past the heap");
  for (uint64_t r = 0; r < rows; r++)
    for (uint64_t j = 0; j < cols; j++) {
      const float v = x[r * cols + j] + b[j];
      out[r * cols + j] = v > 0.0f ? v : 0.0f;
    }
  return NULL;
}

static napi_value bias_relu_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!args(env, info, &c, NULL, 0, "biasReluGrad")) return NULL;
  if (c.desc_len < 6) return fail(env, "native kernels: biasReluGrad: bad descriptor");
  const uint64_t rows = c.desc[4], cols = c.desc[5];
  float* restrict dx = region(&c, c.desc[0], rows * cols);
  float* restrict db = region(&c, c.desc[1], cols);
  const float* restrict dy = region(&c, c.desc[2], rows * cols);
  const float* restrict y = region(&c, c.desc[3], rows * cols);
  if (dx == NULL || db == NULL || dy == NULL || y == NULL)
    return fail(env, "native kernels: biasReluGrad: an operand is misaligned or reaches past the heap");
  memset(db, 0, cols * 4);
  for (uint64_t r = 0; r < rows; r++)
    for (uint64_t j = 0; j < cols; j++) {
      const float g = y[r * cols + j] > 0.0f ? dy[r * cols + j] : 0.0f;
      dx[r * cols + j] = g;
      db[j] += g;
    }
  return NULL;
}

/* The widest vector instruction set this file was compiled for (-march=native at build time). */
const char* native_kernels_isa(void) {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#else
  return "sse2";
#endif
}

/* The compiler that built this file, e.g. "gcc 12.2.0". */
const char* native_kernels_compiler(void) {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown compiler";
#endif
}

/* Whether this CPU runs what the file was compiled for (a build copied to an older CPU would fault). */
int native_kernels_cpu_ok(void) {
  __builtin_cpu_init();
#if defined(__AVX512F__)
  return __builtin_cpu_supports("avx512f");
#elif defined(__AVX2__)
  return __builtin_cpu_supports("avx2");
#elif defined(__AVX__)
  return __builtin_cpu_supports("avx");
#else
  return 1;
#endif
}

napi_value native_kernels_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL },
    { "unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL },
    { "reduce", NULL, reduce, NULL, NULL, NULL, napi_default, NULL },
    { "softmax", NULL, softmax, NULL, NULL, NULL, napi_default, NULL },
    { "transpose", NULL, transpose, NULL, NULL, NULL, napi_default, NULL },
    { "segmentSum", NULL, segment_sum, NULL, NULL, NULL, napi_default, NULL },
    { "adamw", NULL, adamw, NULL, NULL, NULL, napi_default, NULL },
    { "norm", NULL, norm, NULL, NULL, NULL, napi_default, NULL },
    { "normGrad", NULL, norm_grad, NULL, NULL, NULL, napi_default, NULL },
    { "maskedSoftmax", NULL, masked_softmax, NULL, NULL, NULL, napi_default, NULL },
    { "softmaxGrad", NULL, softmax_grad, NULL, NULL, NULL, napi_default, NULL },
    { "crossEntropy", NULL, cross_entropy, NULL, NULL, NULL, napi_default, NULL },
    { "crossEntropyGrad", NULL, cross_entropy_grad, NULL, NULL, NULL, napi_default, NULL },
    { "swiglu", NULL, swiglu, NULL, NULL, NULL, napi_default, NULL },
    { "swigluGrad", NULL, swiglu_grad, NULL, NULL, NULL, napi_default, NULL },
    { "biasRelu", NULL, bias_relu, NULL, NULL, NULL, napi_default, NULL },
    { "biasReluGrad", NULL, bias_relu_grad, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
