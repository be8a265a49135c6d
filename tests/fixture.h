/* fixture.h - header-only reader for the tiny tensor fixture files written by
 * tests/fixtures/make_layer_fixtures.py.
 *
 * File format (all integers uint32 little-endian, data float32 little-endian):
 *   "DPFX"  version(=1)  count
 *   count x { name_len  name[name_len]  ndim  dims[ndim]  data[prod(dims)] }
 * A record with ndim = 0 is a scalar (one float). Integers (shapes, labels)
 * are stored as floats; they are small enough to be exact.
 *
 * Every failure (missing file, truncated or malformed content) comes back as
 * NULL plus a message, so a test can fail cleanly instead of crashing. */
#ifndef DPPF_TEST_FIXTURE_H
#define DPPF_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_MAX_NAME 63
#define FIXTURE_MAX_DIMS 8

typedef struct {
    char name[FIXTURE_MAX_NAME + 1];
    int ndim;
    size_t dims[FIXTURE_MAX_DIMS];
    size_t n;
    float *data;
} fixture_rec;

typedef struct {
    int count;
    fixture_rec *recs;
} fixture;

static inline void fixture_free(fixture *f) {
    if (!f) return;
    for (int i = 0; i < f->count; i++) free(f->recs[i].data);
    free(f->recs);
    free(f);
}

/* Cursor over the file bytes; every read checks the remaining length. */
typedef struct {
    const unsigned char *p;
    size_t left;
} fixture_cur_;

static inline int fixture_u32_(fixture_cur_ *c, uint32_t *v) {
    if (c->left < 4) return -1;
    *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
         (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->left -= 4;
    return 0;
}

static inline fixture *fixture_parse_(const unsigned char *buf, size_t len, const char *path,
                                      char *err, size_t errlen) {
    fixture_cur_ c = {buf, len};
    uint32_t version = 0, count = 0;
    if (len < 12 || memcmp(buf, "DPFX", 4) != 0) {
        snprintf(err, errlen, "fixture %s: not a DPFX file (bad magic)", path);
        return NULL;
    }
    c.p += 4;
    c.left -= 4;
    fixture_u32_(&c, &version);
    fixture_u32_(&c, &count);
    if (version != 1 || count > 10000) {
        snprintf(err, errlen, "fixture %s: unsupported version %u or record count %u", path,
                 (unsigned)version, (unsigned)count);
        return NULL;
    }
    fixture *f = calloc(1, sizeof *f);
    if (!f || !(f->recs = calloc(count ? count : 1, sizeof *f->recs))) {
        free(f);
        snprintf(err, errlen, "fixture %s: out of memory", path);
        return NULL;
    }
    for (uint32_t r = 0; r < count; r++) {
        fixture_rec *rec = &f->recs[r];
        uint32_t nlen, ndim, d;
        if (fixture_u32_(&c, &nlen) || nlen == 0 || nlen > FIXTURE_MAX_NAME || c.left < nlen)
            goto bad;
        memcpy(rec->name, c.p, nlen);
        rec->name[nlen] = '\0';
        c.p += nlen;
        c.left -= nlen;
        if (fixture_u32_(&c, &ndim) || ndim > FIXTURE_MAX_DIMS) goto bad;
        rec->ndim = (int)ndim;
        rec->n = 1;
        for (uint32_t i = 0; i < ndim; i++) {
            if (fixture_u32_(&c, &d) || d > (1u << 24)) goto bad;
            rec->dims[i] = d;
            rec->n *= d;
            if (rec->n > (1u << 24)) goto bad;
        }
        if (c.left / 4 < rec->n) goto bad;
        rec->data = malloc(rec->n ? rec->n * sizeof(float) : 1);
        if (!rec->data) goto bad;
        f->count = (int)r + 1;
        for (size_t i = 0; i < rec->n; i++) {
            uint32_t u = 0;
            fixture_u32_(&c, &u);
            memcpy(&rec->data[i], &u, sizeof u);
        }
    }
    if (c.left != 0) goto bad;
    f->count = (int)count;
    return f;
bad:
    snprintf(err, errlen, "fixture %s: truncated or malformed at byte %zu", path,
             (size_t)(c.p - buf));
    fixture_free(f);
    return NULL;
}

/* Load a whole fixture file; NULL with a message in err on any failure. */
static inline fixture *fixture_load(const char *path, char *err, size_t errlen) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "fixture %s: cannot open (regenerate with "
                              "tests/fixtures/make_layer_fixtures.py)", path);
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                snprintf(err, errlen, "fixture %s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
    } while (got > 0);
    int rd_err = ferror(fp);
    fclose(fp);
    if (rd_err) {
        free(buf);
        snprintf(err, errlen, "fixture %s: read error", path);
        return NULL;
    }
    fixture *f = fixture_parse_(buf, len, path, err, errlen);
    free(buf);
    return f;
}

/* The record called name (NULL if absent); *n (nullable) gets its element count. */
static inline const fixture_rec *fixture_rec_get(const fixture *f, const char *name) {
    for (int i = 0; f && i < f->count; i++)
        if (strcmp(f->recs[i].name, name) == 0) return &f->recs[i];
    return NULL;
}

static inline const float *fixture_get(const fixture *f, const char *name, size_t *n) {
    const fixture_rec *r = fixture_rec_get(f, name);
    if (n) *n = r ? r->n : 0;
    return r ? r->data : NULL;
}

#endif
