/* xmacro.h - helpers for the one-row-per-item lists (algorithms, models,
 * datasets) written as X-macros: X(ID, "name", ...) rows expand into an enum
 * of IDs and a table of names, so the two cannot drift apart. */
#ifndef DPPF_XMACRO_H
#define DPPF_XMACRO_H

#define DPPF_X_ENUM(id, ...) id,
#define DPPF_X_NAME(id, name, ...) name,

#endif
