/* algo_localsgd.c - Local SGD (Stich 2019; Lin et al. 2020): tau local steps,
 * then every worker takes the average. Post-local SGD (Lin et al. 2020):
 * DDP for the first dist.post_local epochs. */
#include "algo.h"

static int post_local_phase(const algo_t *a, double epoch) { return epoch < a->cfg.post_local_epochs; }

const algo_ops algo_localsgd_ops = {.averages_gradients = post_local_phase};
