/* algo_qsr.c - the Quadratic Synchronization Rule (Gu et al., ICLR 2024):
 * Local SGD whose period grows as the learning rate decays,
 * tau_t = max(tau, floor((beta / lr_t)^2)). */
#include <math.h>

#include "algo.h"

static int qsr_period(const algo_t *a, float lr) {
    int tau = a->cfg.tau;
    if (lr > 0) {
        double q = floor(pow(a->cfg.qsr_beta / lr, 2));
        if (q > tau) tau = q > 1e9 ? 1000000000 : (int)q;
    }
    return tau;
}

const algo_ops algo_qsr_ops = {.period = qsr_period};
