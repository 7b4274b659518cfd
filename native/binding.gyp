{
  "targets": [
    {
      "target_name": "dnnl_gemm",
      "sources": ["dnnl-gemm.c", "kernels.c"],
      "cflags": ["-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
