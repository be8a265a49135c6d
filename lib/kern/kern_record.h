/* kern_record.h - a log of the GEMM-level operations the kernels run, for the benchmark.
 *
 * Why: `dppf bench` reports how much of a training step is GEMM by replaying
 * the step's products standalone. A list derived from the network's layers
 * would be a second copy of the convolution dispatch (conv.c) and drift from
 * it; recording what the kernels actually ran cannot. While a recorder is
 * installed, gemm() and each convolution path of conv.h append one kern_call
 * when they have run (a path that declines records nothing: its fallback
 * does). Installed by the benchmark only; with none installed a kernel pays
 * one pointer load. im2col/col2im copies and epilogue passes are not GEMM
 * and are not recorded. */
#ifndef DPPF_KERN_RECORD_H
#define DPPF_KERN_RECORD_H

#include "conv_geom.h"

typedef enum {
    KERN_GEMM,        /* gemm(): C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C */
    KERN_CONV_IMAGE,  /* conv_fwd_gemm_image: one image's forward GEMM, im2col packed from it */
    KERN_CONV_BATCH,  /* conv_fwd_gemm_batch: a batch's forward as one GEMM */
    KERN_CONV_DIRECT, /* conv_fwd_direct: a batch's forward by the direct kernel */
    KERN_CONV_DW,     /* conv_dw_gemm_batch: a batch's weight gradient as one GEMM */
    KERN_CONV_DW_DIRECT, /* conv_dw_direct: the same by the direct kernel */
} kern_kind;

typedef struct {
    kern_kind kind;
    int trans_a, trans_b;   /* KERN_GEMM */
    int M, N, K;            /* the product for one image (conv kinds; KERN_CONV_DW(_DIRECT): M = OC,
                               N = C*KH*KW, K = OH*OW) or for the call (KERN_GEMM) */
    int lda, ldb, ldc;      /* KERN_GEMM, KERN_CONV_IMAGE (ldb unused there) */
    int images;             /* images in the call: the batch kinds; 1 otherwise */
    float alpha, beta;
    conv_geom g;            /* the conv kinds: the geometry the operand was packed with */
    int epilogue;           /* KERN_CONV_DIRECT: 0 none, 1 scale and shift, 2 and a ReLU */
    int pool;               /* KERN_CONV_DIRECT: then a 2x2 max pool (only its output stored) */
    int parallel;           /* made inside an active OpenMP region: one thread per call, the
                               calls of a loop (images) spread over the team */
    long reps;              /* how many identical calls in a row this entry stands for */
} kern_call;

/* The caller's array; n entries filled. Consecutive identical calls (all
 * fields but reps) are one entry. Calls that find it full are counted in
 * dropped and not stored. */
typedef struct {
    kern_call *calls;
    int cap, n;
    long dropped;
} kern_recorder;

/* Empties r and records into it from now on (replacing any recorder
 * installed), until kern_record_stop. Call both outside parallel regions. */
void kern_record_start(kern_recorder *r);
void kern_record_stop(void);

/* For the kernels: 1 while a recorder is installed (so a call is built only
 * then), and the append itself (thread-safe; no-op without a recorder). */
int kern_recording(void);
void kern_record(const kern_call *c);

/* Floating-point operations of an entry, all its images and reps. */
double kern_call_flops(const kern_call *c);

#endif
