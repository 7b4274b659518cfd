/*
 * The engine benchmark's sgemm peer (harness/bench/engine/peers.ts compiles it with gcc at bench time): GFLOP/s of
 * n^3 float32 products at n = 512 and 1024, the practical matmul ceiling of this CPU. Linked against OpenBLAS
 * (cblas_sgemm), or, compiled with -DSGEMM_ONEDNN and -ldnnl, against oneDNN (dnnl_sgemm). Prints one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
/* The prototypes, declared here so that only the shared library is needed (no headers). */
#ifdef SGEMM_ONEDNN
extern int dnnl_sgemm(char transa, char transb, long long m, long long n, long long k, float alpha, const float *a,
                      long long lda, const float *b, long long ldb, float beta, float *c, long long ldc);
#define SGEMM(n, a, b, c) dnnl_sgemm('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n)
#else
extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                        int lda, const float *b, int ldb, float beta, float *c, int ldc);
#define SGEMM(n, a, b, c) cblas_sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n)
#endif
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double gflops(int n, int reps) {
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  unsigned s = 12345u;
  for (int i = 0; i < n * n; i++) { s = s * 1103515245u + 12345u; a[i] = (float)(s >> 8) / 16777216.0f - 0.5f; b[i] = a[i] * 0.5f; }
  SGEMM(n, a, b, c); /* warm-up */
  double best = 1e30; /* a ceiling: the fastest of 5 timing windows (the machine's speed drifts) */
  for (int w = 0; w < 5; w++) {
    double t0 = now();
    for (int r = 0; r < reps; r++) SGEMM(n, a, b, c);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  free(a); free(b); free(c);
  return 2.0 * n * n * (double)n * reps / best / 1e9;
}
int main(void) { printf("{\"gflops512\": %f, \"gflops1024\": %f}\n", gflops(512, 10), gflops(1024, 4)); return 0; }
