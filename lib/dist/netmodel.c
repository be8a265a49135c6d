#include <math.h>

#include "netmodel.h"

double netmodel_allreduce_s(const netmodel_cfg *c, int p, double bytes) {
    if (c->kind != NETMODEL_ALPHA_BETA || p <= 1 || c->bandwidth <= 0) return 0;
    const double a = c->latency_s, n_b = bytes / c->bandwidth;
    switch (c->topology) {
    case TOPO_TREE: return 2.0 * ceil(log2((double)p)) * (a + n_b);
    case TOPO_PS: return 2.0 * a + 2.0 * p * n_b;
    default: return 2.0 * (p - 1) * a + 2.0 * (p - 1) / (double)p * n_b;
    }
}
