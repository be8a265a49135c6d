/* The modeled allreduce times (dist/netmodel.c) against hand-computed values. */
#include <criterion/criterion.h>
#include <math.h>

#include "netmodel.h"

Test(netmodel, alpha_beta_formulas) {
    /* alpha 10 us, 1 Gbit/s = 1.25e8 B/s, 1e6 bytes, p = 4. */
    netmodel_cfg c = {.kind = NETMODEL_ALPHA_BETA, .latency_s = 10e-6, .bandwidth = 1.25e8};
    double nb = 1e6 / 1.25e8; /* 8 ms */
    c.topology = TOPO_RING; /* 2*3*10us + 2*3/4*8ms = 60us + 12ms */
    cr_expect_float_eq(netmodel_allreduce_s(&c, 4, 1e6), 60e-6 + 12e-3, 1e-12);
    c.topology = TOPO_TREE; /* 2*2*(10us + 8ms) */
    cr_expect_float_eq(netmodel_allreduce_s(&c, 4, 1e6), 4 * (10e-6 + nb), 1e-12);
    c.topology = TOPO_PS; /* 2*10us + 2*4*8ms */
    cr_expect_float_eq(netmodel_allreduce_s(&c, 4, 1e6), 20e-6 + 64e-3, 1e-12);
    c.topology = TOPO_TREE; /* p = 5: ceil(log2 5) = 3 */
    cr_expect_float_eq(netmodel_allreduce_s(&c, 5, 1e6), 6 * (10e-6 + nb), 1e-12);
    /* One worker, or no model: nothing to send. */
    cr_expect_eq(netmodel_allreduce_s(&c, 1, 1e6), 0.0);
    c.kind = NETMODEL_NONE;
    cr_expect_eq(netmodel_allreduce_s(&c, 64, 1e6), 0.0);
}

Test(netmodel, ring_is_bandwidth_optimal_at_scale) {
    /* For large p a ring moves ~2n per worker whatever p; a tree moves 2 log2(p) n. */
    netmodel_cfg c = {.kind = NETMODEL_ALPHA_BETA, .topology = TOPO_RING, .latency_s = 0, .bandwidth = 1e9};
    cr_expect(fabs(netmodel_allreduce_s(&c, 1024, 1e9) - 2 * 1023.0 / 1024) < 1e-9);
    c.topology = TOPO_TREE;
    cr_expect_float_eq(netmodel_allreduce_s(&c, 1024, 1e9), 20.0, 1e-9);
}
