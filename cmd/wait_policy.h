/* wait_policy.h - how long an idle OpenMP thread spins before it sleeps. */
#ifndef DPPF_CMD_WAIT_POLICY_H
#define DPPF_CMD_WAIT_POLICY_H

/* Before anything else of a command that computes (no MPI, no threads yet):
 * unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT set) or the
 * process runs under valgrind, sets GOMP_SPINCOUNT and executes this binary
 * again with the same arguments, so that libgomp reads it. Returns only
 * when it did not (or the exec failed: the run goes on with the default). */
void wait_policy_apply(char **argv);

#endif
