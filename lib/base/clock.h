/* clock.h - seconds on a monotonic clock, for timing runs and benchmarks. */
#ifndef DPPF_CLOCK_H
#define DPPF_CLOCK_H

double now_seconds(void);

#endif
