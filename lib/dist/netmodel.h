/* netmodel.h - what the syncs of a run would cost on a real network: the
 * alpha-beta (Hockney) model of an allreduce among p workers, each holding
 * n bytes, on links of latency alpha and bandwidth beta:
 *   ring  2 (p - 1) alpha + 2 (p - 1) / p * n / beta
 *         (reduce-scatter + allgather; Patarasuk & Yuan 2009, Thakur et al. 2005)
 *   tree  2 ceil(log2 p) (alpha + n / beta)
 *         (binomial-tree reduce, then broadcast; Thakur et al. 2005)
 *   ps    2 alpha + 2 p n / beta
 *         (one parameter server whose link carries every worker's push and pull)
 * and 0 for p = 1. dppf runs its M logical workers on whatever it has; this
 * says how long the same run would take with M machines on that network. */
#ifndef DPPF_NETMODEL_H
#define DPPF_NETMODEL_H

typedef enum { NETMODEL_NONE, NETMODEL_ALPHA_BETA, NETMODEL_COUNT } netmodel_kind;
#define NETMODEL_NAMES {"none", "alpha_beta"}
typedef enum { TOPO_RING, TOPO_TREE, TOPO_PS, TOPO_COUNT } net_topology;
#define TOPOLOGY_NAMES {"ring", "tree", "ps"}

typedef struct {
    int kind;           /* NETMODEL_* */
    int topology;       /* TOPO_* */
    double latency_s;   /* alpha */
    double bandwidth;   /* beta, bytes per second */
} netmodel_cfg;

/* Seconds for one allreduce of `bytes` per worker among p workers. */
double netmodel_allreduce_s(const netmodel_cfg *c, int p, double bytes);

#endif
