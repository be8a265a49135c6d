/* gemm.c - row-major SGEMM through the BLIS 0.9 typed API, plus a naive reference.
 *
 * BLIS takes a row stride and a column stride per operand, so row-major is
 * simply rs = ld, cs = 1 (no transposition tricks as with column-major BLAS).
 * BLIS 0.9 prototypes take non-const pointers although it never writes A, B,
 * alpha or beta; the casts below drop const for that reason only. */
#include <blis.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "gemm_driver.h"
#include "kern_record.h"

/* Kernel choice. Debian's BLIS 0.9 does not recognise newer CPUs (e.g. AMD
 * family 0x1A) and falls back to its portable "generic" kernels (~30 GFLOP/s
 * on a core that reaches ~170 with the AVX-512 ones). The static library
 * carries the optimised configurations, so when BLIS picked "generic" we build
 * the context of the best configuration this CPU supports ourselves and pass
 * it to bli_sgemm_ex. DPPF_BLIS_KERNELS=generic|haswell|zen3|skx overrides
 * the choice (for comparisons). The context is written once, under
 * pthread_once; the thread count mirrors BLIS's own process-wide setting. */
void bli_cntx_init_skx(cntx_t *cntx);
void bli_cntx_init_haswell(cntx_t *cntx);
void bli_cntx_init_zen3(cntx_t *cntx);

static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;
static cntx_t kernels_cntx;
static const char *kernels_name = "generic";
static int kernels_own; /* use kernels_cntx rather than BLIS's default context */
static int n_threads = 1;
static gemm_kernel kernel;  /* micro-kernel + blocking of the chosen context */
static int use_driver;      /* 0: DPPF_GEMM=blis asks for bli_sgemm_ex throughout */

static void describe_kernel(cntx_t *cntx) {
    kernel.cntx = cntx;
    kernel.ukr = (void *)bli_cntx_get_l3_nat_ukr_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    kernel.mr = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MR, cntx);
    kernel.nr = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_NR, cntx);
    kernel.kc = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_KC, cntx);
    kernel.mc = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MC, cntx);
    kernel.nc = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_NC, cntx);
    kernel.prefers_cols = bli_cntx_l3_nat_ukr_prefers_cols_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    const char *pk = getenv("DPPF_PACK");
    gemm_driver_generic_packing(pk && !strcmp(pk, "generic"));
    const char *g = getenv("DPPF_GEMM");
    use_driver = !(g && !strcmp(g, "blis")) && kernel.ukr && kernel.mr > 0 && kernel.nr > 0 &&
                 kernel.kc > 0 && kernel.mc > 0 && kernel.nc > 0;
}

static void choose_context(void) {
    const char *want = getenv("DPPF_BLIS_KERNELS");
    kernels_name = bli_arch_string(bli_arch_query_id());
    if (!want && bli_arch_query_id() != BLIS_ARCH_GENERIC) return; /* BLIS knows this CPU */
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!want) want = avx512 ? "skx" : avx2 ? "haswell" : "generic";
    if (!strcmp(want, "skx") && avx512) {
        bli_cntx_init_skx(&kernels_cntx);
    } else if (!strcmp(want, "haswell") && avx2) {
        bli_cntx_init_haswell(&kernels_cntx);
    } else if (!strcmp(want, "zen3") && avx2) {
        bli_cntx_init_zen3(&kernels_cntx);
    } else {
        return; /* generic, or a request this CPU cannot run */
    }
    kernels_name = want;
    kernels_own = 1;
}

static void choose_kernels(void) {
    bli_init();
    choose_context();
    describe_kernel(kernels_own ? &kernels_cntx : bli_gks_query_cntx());
}

const char *gemm_kernels(void) {
    pthread_once(&kernels_once, choose_kernels);
    return kernels_name;
}

/* bli_sgemm_ex with the chosen context. */
static void blis_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc,
                       int threads) {
    rntm_t rntm;
    bli_rntm_init(&rntm);
    bli_rntm_set_num_threads((dim_t)threads, &rntm);
    bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, (dim_t)M, (dim_t)N, (dim_t)K,
                 &alpha, (float *)A, (inc_t)lda, 1, (float *)B, (inc_t)ldb, 1, &beta, C,
                 (inc_t)ldc, 1, kernels_own ? &kernels_cntx : NULL, &rntm);
}

/* K == 0: nothing to multiply, C = beta*C, where beta == 0 overwrites (C may
 * hold NaN). Returns 1 when the call is fully handled here. */
static int gemm_degenerate(int M, int N, int K, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 1;
    if (K > 0) return 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
    return 1;
}

/* Threads for this call, after the one-time kernel choice: inside a parallel
 * region (a layer splitting its batch) each call runs on its own thread. */
static int call_threads(void) {
    pthread_once(&kernels_once, choose_kernels);
    return omp_in_parallel() ? 1 : n_threads;
}

const gemm_kernel *gemm_driver_kernel(int *threads) {
    *threads = call_threads();
    return use_driver ? &kernel : NULL;
}

static void record_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, int lda,
                        int ldb, float beta, int ldc) {
    kern_record(&(kern_call){.kind = KERN_GEMM, .trans_a = trans_a, .trans_b = trans_b, .M = M,
                             .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc, .images = 1,
                             .alpha = alpha, .beta = beta});
}

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    if (gemm_degenerate(M, N, K, beta, C, ldc)) return;
    /* With beta == 0 neither driver reads C, so garbage/NaN in C is overwritten. */
    const int threads = call_threads();
    if (kern_recording()) record_gemm(trans_a, trans_b, M, N, K, alpha, lda, ldb, beta, ldc);
    if (use_driver) {
        /* A's rows and B's columns as (outer, k) views of the row-major storage. */
        gemm_src a = trans_a ? gemm_src_dense(A, 1, lda) : gemm_src_dense(A, lda, 1);
        gemm_src b = trans_b ? gemm_src_dense(B, ldb, 1) : gemm_src_dense(B, 1, ldb);
        if (gemm_drive(&kernel, threads, M, N, K, alpha, &a, &b, beta, C, ldc, 1) == 0) return;
    }
    blis_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

void gemm_blis(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (gemm_degenerate(M, N, K, beta, C, ldc)) return;
    blis_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, call_threads());
}

void gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* beta == 0 must not read C (same contract as BLIS). */
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
    }
}

void gemm_set_threads(int n) {
    n_threads = n < 1 ? 1 : n;
    bli_thread_set_num_threads((dim_t)n_threads);
    omp_set_num_threads(n_threads); /* the layers' own parallel loops */
}

int gemm_get_threads(void) { return n_threads; }

void gemm_use_threads(int n) {
    if (n != n_threads) gemm_set_threads(n);
}
