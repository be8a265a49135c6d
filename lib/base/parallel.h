/* parallel.h - when an elementwise OpenMP loop is worth a thread team.
 *
 * Loops over fewer elements than PAR_MIN stay on one thread: starting the
 * team costs about as much as moving that many floats. Every parallel loop
 * that uses it splits work whose result does not depend on who does it, so
 * results are the same, bit for bit, for any thread count. */
#ifndef DPPF_PARALLEL_H
#define DPPF_PARALLEL_H

#define PAR_MIN 32768

#endif
