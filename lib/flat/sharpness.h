/* sharpness.h - flatness measures of a loss at given parameters.
 *
 * Every measure works on an abstract loss (loss_fn) so that it can be tested
 * on analytic functions; loss_fn_objective adapts an objective_t (the model's
 * loss on a fixed data subset, BN in eval mode). Each call allocates its
 * scratch vectors once up front (never inside its loops) and frees them.
 * Parameters w are never modified. All losses are in double; points are float
 * vectors built as w + t*d in double and rounded once.
 *
 * Measures and their defaults (*_cfg_default fills them):
 *  - Mean Valley (MV) and IMV = 1/MV: the valley width along direction d is
 *    t_plus + t_minus, where t_plus (t_minus) is the step t >= 0 at which
 *    L(w + t d) (L(w - t d)) first exceeds the threshold, in units of d (for
 *    filter-normalised d, t = 1 moves every filter by its own norm).
 *    Threshold: relative (1 + eps) L(w) [default, eps = 0.1] or absolute
 *    L(w) + eps. Line search: t = t0, 2 t0, 4 t0 ... until above the threshold
 *    (t0 = 0.05) or past t_max (= 10: that side is capped at t_max and
 *    counted in n_capped), then bisection between the last point below and the
 *    first above until hi - lo <= rtol * hi (rtol = 1e-2); the side's value is
 *    the midpoint. A NaN/Inf loss counts as above. Doubling can step over a
 *    narrow bump, so "first" is at the doubling grid's resolution.
 *    K = 10 random directions, filter-normalised (1-D tensors zeroed), seed 0;
 *    or caller-given directions (e.g. worker - average), used as given unless
 *    normalize_given (then normalised like the random ones).
 *  - SAM sharpness: L(w + eps) - L(w) with eps = rho g / ||g|| (rho = 0.05,
 *    steps = 1). steps = k > 1: projected normalised-gradient ascent in the
 *    ball ||eps|| <= rho, eps <- P(eps + (rho/k) g(w+eps)/||g(w+eps)||),
 *    starting from 0; the result is the largest loss increase over the iterates
 *    (k gradient and 1 loss evaluations).
 *  - Hessian top eigenvalue (largest |lambda|, may be negative) by power
 *    iteration from a seeded Gaussian v: v <- Hv/||Hv||, lambda = v.Hv, stop
 *    when |lambda - lambda_prev| <= tol |lambda| (tol = 1e-3) or after
 *    max_iter = 100 iterations. Hv by central differences of gradients:
 *    Hv ~ (g(w + h v) - g(w - h v)) / 2h, ||h v|| = fd_scale * max(||w||, 1)
 *    (fd_scale = 1e-3). Accuracy: the truncation error is O(h^2 ||D^3 L||)
 *    (zero for a quadratic); float rounding of w + h v contributes a relative
 *    error ~ 6e-8 / fd_scale ~ 1e-4 of the gradient scale, so eigenvalues much
 *    smaller than 1e-4 * (gradient scale / step) are noise.
 *  - Hutchinson trace: mean over m Rademacher z of z.Hz (m = 10, same Hv,
 *    seeded); exact for a diagonal H. The standard error is reported.
 *  - epsilon-sharpness (Keskar et al. 2017):
 *    100 * (max_{|z_i| <= eps(|w_i|+1)} L(w + z) - L(w)) / (1 + L(w)),
 *    eps = 1e-3; projected sign-gradient ascent with clamping to the box:
 *    z <- clamp(z + a_j sign(g(w+z)) b), b_i = eps(|w_i|+1), a_j = 2^-j for
 *    j = 0..steps-1 (steps = 5): the first step goes to the corner of the
 *    first-order maximiser (a coordinate with a zero gradient there gets a
 *    random sign, fixed seed, so an exact minimum still reaches a corner),
 *    later ones refine it. The result is the largest
 *    loss over the iterates (steps gradient and 1 loss evaluations).
 *
 * Errors: DP_ENUMERIC when L(w) (or a needed gradient) is not finite,
 * DP_EUSAGE for a bad config, DP_ENOMEM. Nothing is printed. */
#ifndef DPPF_SHARPNESS_H
#define DPPF_SHARPNESS_H

#include <stddef.h>
#include <stdint.h>

#include "directions.h"
#include "error.h"
#include "net.h"
#include "evaluate.h"

typedef struct {
    size_t n;                                            /* parameters */
    double (*loss)(void *ctx, const float *x);
    double (*grad)(void *ctx, const float *x, float *g);  /* returns loss, writes gradient */
    void *ctx;
} loss_fn;

/* The loss of o's model on its data subset (o must outlive f). */
void loss_fn_objective(loss_fn *f, objective_t *o);

/* ---- Mean Valley / IMV ---------------------------------------------------- */

typedef enum { MV_RELATIVE, MV_ABSOLUTE } mv_threshold;

typedef struct {
    int k;                  /* random directions (ignored when directions are given): 10 */
    dir_norm norm;          /* DIR_NORM_FILTER */
    int keep_1d;            /* 0: 1-D tensors zeroed in filter/layer modes */
    int normalize_given;    /* 0: given directions used as is */
    uint64_t seed;          /* 0: direction j uses dir_random(seed, j) */
    mv_threshold threshold; /* MV_RELATIVE */
    double eps;             /* 0.1 */
    double t0;              /* 0.05: first bracketing step */
    double t_max;           /* 10: a side that stays below the threshold is capped here */
    double rtol;            /* 1e-2: bisection stops when hi - lo <= rtol * hi */
} mv_cfg;

void mv_cfg_default(mv_cfg *c);

typedef struct {
    double loss0;     /* L(w) */
    double threshold; /* the loss level that ends a valley */
    double mv, imv;   /* mean width over directions, and 1 / mv (inf when mv = 0) */
    int k;            /* directions used */
    int n_capped;     /* sides that reached t_max */
    long n_evals;     /* loss evaluations */
} mv_result;

/* dirs: NULL for c->k random directions, else k_given pointers to n floats.
 * net (nullable) gives the layout for normalisation. width, t_plus, t_minus,
 * dnorm (each nullable, k entries) receive per direction the width
 * (t_plus + t_minus, in units of d), the two sides, and ||d|| (after
 * normalisation: width * dnorm is the Euclidean width). */
int sharp_mean_valley(const loss_fn *f, const float *w, const net_t *net, const mv_cfg *c,
                      const float *const *dirs, int k_given, mv_result *r, double *width,
                      double *t_plus, double *t_minus, double *dnorm, dp_err *e);

/* ---- SAM sharpness ---------------------------------------------------------- */

typedef struct {
    double rho; /* 0.05 */
    int steps;  /* 1 = first order */
} sam_cfg;

void sam_cfg_default(sam_cfg *c);

typedef struct {
    double loss0, loss_adv; /* L(w), L(w + eps) at the best iterate */
    double sharpness;       /* loss_adv - loss0 */
    double grad_norm;       /* ||g(w)|| */
    double eps_norm;        /* ||eps|| of the best iterate */
} sam_result;

int sharp_sam(const loss_fn *f, const float *w, const sam_cfg *c, sam_result *r, dp_err *e);

/* ---- Hessian: top eigenvalue and trace --------------------------------------- */

typedef struct {
    int max_iter;    /* 100 (power iteration) */
    double tol;      /* 1e-3 relative change of lambda */
    int samples;     /* 10 (Hutchinson) */
    double fd_scale; /* 1e-3: ||h v|| = fd_scale * max(||w||, 1) */
    uint64_t seed;   /* 0 */
} hess_cfg;

void hess_cfg_default(hess_cfg *c);

typedef struct {
    double lambda;  /* top eigenvalue (largest magnitude), or trace estimate */
    double sem;     /* trace: standard error of the mean (0 for one sample); eig: 0 */
    int iters;      /* power iterations or trace samples done */
    int converged;  /* eig: tolerance met; trace: 1 */
    long n_grads;   /* gradient evaluations */
} hess_result;

/* v_out (nullable, n floats) receives the unit eigenvector estimate. */
int sharp_hessian_top(const loss_fn *f, const float *w, const hess_cfg *c, hess_result *r,
                      float *v_out, dp_err *e);
int sharp_hessian_trace(const loss_fn *f, const float *w, const hess_cfg *c, hess_result *r,
                        dp_err *e);

/* ---- epsilon-sharpness (Keskar et al. 2017) ----------------------------------- */

typedef struct {
    double eps; /* 1e-3: box half-width eps * (|w_i| + 1) */
    int steps;  /* 5 */
} epss_cfg;

void epss_cfg_default(epss_cfg *c);

typedef struct {
    double loss0, loss_max; /* L(w), the largest loss found in the box */
    double sharpness;       /* 100 (loss_max - loss0) / (1 + loss0) */
} epss_result;

int sharp_epsilon(const loss_fn *f, const float *w, const epss_cfg *c, epss_result *r, dp_err *e);

#endif
