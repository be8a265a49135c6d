/* fault.h - test-only fault injection, so the tests can make one rank fail or
 * the process die at an exact point (no other way to provoke these on demand).
 *
 * Off unless the environment variable DPPF_FAULT is set; never set it for
 * real runs. DPPF_FAULT=KIND:STEP[@RANK], STEP counted from 1, RANK default any:
 *   error:STEP[@RANK]          train fails with an error before optimizer step STEP
 *   checkpoint-kill:STEP       the process SIGKILLs itself half-way through
 *                              writing the first checkpoint file at step STEP
 *   sigterm:STEP[@RANK]        the process sends itself SIGTERM before step STEP
 *                              (as a cluster's preemption would) */
#ifndef DPPF_FAULT_H
#define DPPF_FAULT_H

/* Does DPPF_FAULT ask for fault `kind` at this step on this rank (rank -1:
 * the caller does not know its rank, matches any)? */
int fault_at(const char *kind, long long step, int rank);

#endif
