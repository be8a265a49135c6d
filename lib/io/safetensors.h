/* safetensors.h - reading and writing the safetensors format (Hugging Face),
 * the way PyTorch state_dicts are exchanged.
 *
 * Layout: u64 little-endian N, then N bytes of JSON header
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {"key": "value", ...}}
 * padded with spaces, then the raw little-endian tensor data; offsets are
 * relative to the start of the data, and the tensors tile it exactly (no
 * holes, no overlaps), as the format requires.
 *
 * The reader accepts only that subset of JSON, strictly, and validates every
 * field against the data before returning; it never trusts the input (it is a
 * fuzzing target: st_parse works on a memory buffer). */
#ifndef DPPF_SAFETENSORS_H
#define DPPF_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ST_MAX_DIMS 8
/* The reference implementation's limit; it bounds the parser's work. */
#define ST_MAX_HEADER (100u * 1000 * 1000)

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_F8_E4M3, ST_F8_E5M2, ST_I16, ST_U16, ST_F16, ST_BF16,
    ST_I32, ST_U32, ST_F32, ST_F64, ST_I64, ST_U64,
    ST_N_DTYPES
} st_dtype;

typedef struct {
    char *name;              /* NUL-terminated UTF-8 (no embedded NUL) */
    st_dtype dtype;
    int ndim;                /* 0 = scalar */
    uint64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;     /* byte range in the data section */
    const void *data;        /* the bytes (read: inside st_file.buf or the parsed buffer) */
} st_tensor;

typedef struct {
    char *key, *value;
} st_meta;

typedef struct {
    int n_tensors;
    st_tensor *tensors;      /* in header order */
    int n_meta;
    st_meta *meta;           /* __metadata__, in header order */
    unsigned char *buf;      /* the file image when read with st_read, else NULL */
} st_file;

/* "F32", ... and element size in bytes. */
const char *st_dtype_name(st_dtype d);
size_t st_dtype_size(st_dtype d);

/* Parses a whole safetensors image of `len` bytes. Tensor data pointers point
 * into `bytes`, which must outlive `f`. `what` names the input in errors
 * (a file name). Errors are DP_EIO (malformed) or DP_ENOMEM; on error nothing
 * is allocated. */
int st_parse(const unsigned char *bytes, size_t len, const char *what, st_file *f, dp_err *e);

/* Reads and parses a file; the image is kept in f->buf. */
int st_read(const char *path, st_file *f, dp_err *e);

void st_free(st_file *f);

/* The tensor / metadata value of that name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta_get(const st_file *f, const char *key);

/* Writes tensors (name, dtype, ndim, shape, data; begin/end are ignored) and
 * metadata atomically: "<path>.tmp.<pid>", fsync, rename. Names must be
 * unique and non-empty. */
int st_write(const char *path, const st_tensor *t, int n, const st_meta *meta, int n_meta,
             dp_err *e);

#endif
