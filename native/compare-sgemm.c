/*
 * The measurement behind the choice of oneDNN for the native products (README "Native matrix products"): sgemm on
 * the reference model's shapes (batch 8 x 128 tokens, d 128, MLP 512, 4 heads of 32; forward and both gradients)
 * and at 1024^3, median time per shape, one library per build:
 *   gcc -O2 -DLIB_OPENBLAS compare-sgemm.c -o cmp-openblas -lopenblas        (libopenblas-dev)
 *   gcc -O2 -DLIB_BLIS -I/usr/include/blis compare-sgemm.c -o cmp-blis -lblis (libblis-dev)
 *   gcc -O2 -DLIB_DNNL compare-sgemm.c -o cmp-dnnl -ldnnl                     (libdnnl-dev)
 *   ./cmp-openblas 1; OPENBLAS_CORETYPE=SkylakeX ./cmp-openblas 1; ./cmp-blis 1; OMP_NUM_THREADS=1 ./cmp-dnnl 1
 * Each line names the kernel the library picked for this CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(LIB_OPENBLAS)
#include <cblas.h>
extern char* openblas_get_config(void); extern char* openblas_get_corename(void);
static void gemm(int ta,int tb,int M,int N,int K,const float*A,const float*B,float*C){
  cblas_sgemm(CblasRowMajor, ta?CblasTrans:CblasNoTrans, tb?CblasTrans:CblasNoTrans, M,N,K,1.f,A,ta?M:K,B,tb?K:N,0.f,C,N);}
static void setthreads(int t){openblas_set_num_threads(t);}
static const char* name(void){static char b[256];snprintf(b,256,"OpenBLAS %s / %s",openblas_get_config(),openblas_get_corename());return b;}
#elif defined(LIB_BLIS)
#include <blis.h>
static void gemm(int ta,int tb,int M,int N,int K,const float*A,const float*B,float*C){
  float one=1,zero=0;
  bli_sgemm(ta?BLIS_TRANSPOSE:BLIS_NO_TRANSPOSE, tb?BLIS_TRANSPOSE:BLIS_NO_TRANSPOSE, M,N,K,&one,(float*)A,ta?M:K,1,(float*)B,tb?K:N,1,&zero,C,N,1);}
static void setthreads(int t){bli_thread_set_num_threads(t);}
static const char* name(void){static char b[256];snprintf(b,256,"BLIS %s / %s",bli_info_get_version_str(),bli_arch_string(bli_arch_query_id()));return b;}
#elif defined(LIB_DNNL)
#include <dnnl.h>
static void gemm(int ta,int tb,int M,int N,int K,const float*A,const float*B,float*C){
  dnnl_sgemm(ta?'T':'N', tb?'T':'N', M,N,K,1.f,A,ta?M:K,B,tb?K:N,0.f,C,N);}
static void setthreads(int t){ (void)t; }
static const char* name(void){static char b[256];const dnnl_version_t*v=dnnl_version();snprintf(b,256,"oneDNN %d.%d.%d cpu_runtime %d",v->major,v->minor,v->patch,v->cpu_runtime);return b;}
#endif
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int threads=argc>1?atoi(argv[1]):1; setthreads(threads);
  struct {int ta,tb,M,N,K,batch;const char*what;} s[]={
    {0,0,1024,128,128,1,"x W (qkvo)"},{0,0,1024,512,128,1,"x W1"},{0,0,1024,128,512,1,"h W2"},
    {0,1,1024,128,128,1,"dy W^T"},{0,1,1024,128,512,1,"dy W2^T"},{1,0,128,128,1024,1,"x^T dy"},{1,0,512,128,1024,1,"h^T dy"},
    {0,1,128,128,32,32,"q k^T x32"},{0,0,128,32,128,32,"p v x32"},{1,0,128,32,128,32,"p^T do x32"},
    {0,0,1024,1024,1024,1,"1024^3"}};
  int n=sizeof s/sizeof s[0];
  float*A=malloc(4<<22),*B=malloc(4<<22),*C=malloc(4<<22);
  for(int i=0;i<1<<22;i++){A[i]=(i%7)*0.1f-0.3f;B[i]=(i%5)*0.1f-0.2f;}
  printf("%s, %d threads\n",name(),threads);
  double total=0;
  for(int i=0;i<n;i++){
    double flops=2.0*s[i].M*s[i].N*s[i].K*s[i].batch; int reps=(int)(2e9/flops); if(reps<3)reps=3; if(reps>400)reps=400;
    double t[401];
    for(int r=0;r<reps;r++){double t0=now();for(int b=0;b<s[i].batch;b++)
      gemm(s[i].ta,s[i].tb,s[i].M,s[i].N,s[i].K,A+b*s[i].M*s[i].K,B+b*s[i].K*s[i].N,C+b*s[i].M*s[i].N);t[r]=now()-t0;}
    qsort(t,reps,sizeof(double),cmp);
    printf("  %-14s %4dx%4dx%4d %c%c: median %8.1f us  %6.1f GFLOP/s\n",s[i].what,s[i].M,s[i].N,s[i].K,s[i].ta?'T':'N',s[i].tb?'T':'N',t[reps/2]*1e6,flops/t[reps/2]/1e9);
    if(i<n-1) total+=t[reps/2];
  }
  printf("  model shapes total %.1f us\n",total*1e6);
}
