{
  "targets": [
    {
      "target_name": "dnnl_gemm",
      "sources": ["dnnl-gemm.c"],
      "cflags": ["-O2", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
