/* safetensors.c - the safetensors format (layout in safetensors.h).
 *
 * The header is parsed by a small strict JSON parser for exactly the subset
 * the format uses (objects, strings, arrays of non-negative integers): any
 * other JSON (numbers with signs or fractions, true/null, nested values,
 * unknown keys) is an error rather than something to skip, so a file is
 * either fully understood or rejected with the byte where it went wrong. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "safetensors.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors data is little-endian; add byte swapping for this host");

static const struct {
    const char *name;
    size_t size;
} DTYPES[ST_N_DTYPES] = {
    [ST_BOOL] = {"BOOL", 1},     [ST_U8] = {"U8", 1},       [ST_I8] = {"I8", 1},
    [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
    [ST_I16] = {"I16", 2},       [ST_U16] = {"U16", 2},     [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2},     [ST_I32] = {"I32", 4},     [ST_U32] = {"U32", 4},
    [ST_F32] = {"F32", 4},       [ST_F64] = {"F64", 8},     [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},
};

const char *st_dtype_name(st_dtype d) { return d < ST_N_DTYPES ? DTYPES[d].name : "?"; }
size_t st_dtype_size(st_dtype d) { return d < ST_N_DTYPES ? DTYPES[d].size : 0; }

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, <= U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* ---- parsing ---- */

typedef struct {
    const unsigned char *start, *p, *end;
    const char *what;
    dp_err *e;
} jp;

/* Errors point at the byte in the file (the header starts at byte 8). */
static int jfail(jp *j, const char *msg, const char *detail) {
    return dp_fail(j->e, DP_EIO, "'%s': bad safetensors header at byte %zu: %s%.200s", j->what,
                   (size_t)(j->p - j->start) + 8, msg, detail ? detail : "");
}

static void skip_ws(jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int expect(jp *j, char c, const char *msg) {
    skip_ws(j);
    if (j->p >= j->end || *j->p != (unsigned char)c) return jfail(j, msg, NULL);
    j->p++;
    return 0;
}

/* Is the next non-blank byte `c`? (consumes it if so) */
static int accept(jp *j, char c) {
    skip_ws(j);
    if (j->p < j->end && *j->p == (unsigned char)c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hex4(const unsigned char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string into a fresh NUL-terminated buffer. NUL characters (\u0000)
 * are refused: names and metadata are C strings here. */
static int parse_string(jp *j, char **out) {
    *out = NULL;
    if (expect(j, '"', "expected a string")) return DP_EIO;
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p != '"') j->p += (*j->p == '\\' && j->p + 1 < j->end) ? 2 : 1;
    if (j->p >= j->end) {
        j->p = s - 1;
        return jfail(j, "unterminated string", NULL);
    }
    /* Decoding never makes a string longer than its escaped form. */
    char *o = malloc((size_t)(j->p - s) + 1);
    if (!o) return dp_fail(j->e, DP_ENOMEM, "out of memory reading '%s'", j->what);
    size_t n = 0;
    const unsigned char *q = s, *qend = j->p;
    j->p = s;
    while (q < qend) {
        j->p = q;
        unsigned c = *q;
        if (c < 0x20) {
            free(o);
            return jfail(j, "control character in a string", NULL);
        }
        if (c != '\\') {
            size_t l = utf8_len(q, qend);
            if (!l) {
                free(o);
                return jfail(j, "invalid UTF-8 in a string", NULL);
            }
            memcpy(o + n, q, l);
            n += l, q += l;
            continue;
        }
        c = q[1];
        q += 2;
        const char *simple = strchr("\"\\/bfnrt", (int)c);
        if (c && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            o[n++] = map[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (c != 'u' || qend - q < 4 || hex4(q, &cp)) {
            free(o);
            return jfail(j, "bad escape in a string", NULL);
        }
        q += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
            if (qend - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) || lo < 0xDC00 ||
                lo > 0xDFFF) {
                free(o);
                return jfail(j, "unpaired UTF-16 surrogate in a string", NULL);
            }
            q += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            free(o);
            return jfail(j, "unpaired UTF-16 surrogate in a string", NULL);
        } else if (cp == 0) {
            free(o);
            return jfail(j, "NUL character (\\u0000) in a string", NULL);
        }
        n += put_utf8(o + n, cp);
    }
    o[n] = 0;
    j->p = qend + 1;
    *out = o;
    return 0;
}

/* A non-negative integer without sign, fraction, exponent or leading zeros. */
static int parse_uint(jp *j, uint64_t *v) {
    skip_ws(j);
    const unsigned char *s = j->p;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return jfail(j, "expected a non-negative integer", NULL);
    uint64_t x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, *j->p - '0', &x)) {
            j->p = s;
            return jfail(j, "integer too large", NULL);
        }
        j->p++;
    }
    if (j->p - s > 1 && *s == '0') {
        j->p = s;
        return jfail(j, "integer with a leading zero", NULL);
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return jfail(j, "expected an integer, not a fraction", NULL);
    *v = x;
    return 0;
}

/* [u64, ...] with at most `max` entries. */
static int parse_uint_array(jp *j, uint64_t *v, int max, int *n, const char *what) {
    *n = 0;
    if (expect(j, '[', what)) return DP_EIO;
    if (accept(j, ']')) return 0;
    do {
        if (*n == max) return jfail(j, "too many entries in ", what);
        int rc = parse_uint(j, &v[*n]);
        if (rc) return rc;
        (*n)++;
    } while (accept(j, ','));
    return expect(j, ']', "expected ',' or ']'");
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}: each key exactly once. */
static int parse_tensor_info(jp *j, st_tensor *t) {
    int seen[3] = {0, 0, 0};
    if (expect(j, '{', "expected '{' opening a tensor's entry")) return DP_EIO;
    if (!accept(j, '}')) {
        do {
            const unsigned char *at = j->p;
            char *key;
            int rc = parse_string(j, &key);
            if (rc) return rc;
            int k = !strcmp(key, "dtype") ? 0 : !strcmp(key, "shape") ? 1
                    : !strcmp(key, "data_offsets") ? 2 : -1;
            if (k < 0 || seen[k]) {
                j->p = at;
                skip_ws(j);
                rc = jfail(j, k < 0 ? "unknown key in a tensor's entry: " : "duplicate key ", key);
                free(key);
                return rc;
            }
            free(key);
            seen[k] = 1;
            if (expect(j, ':', "expected ':'")) return DP_EIO;
            if (k == 0) {
                const unsigned char *vat = j->p;
                char *dt;
                if ((rc = parse_string(j, &dt))) return rc;
                int d = -1;
                for (int i = 0; i < ST_N_DTYPES; i++)
                    if (!strcmp(dt, DTYPES[i].name)) d = i;
                if (d < 0) {
                    j->p = vat;
                    skip_ws(j);
                    rc = jfail(j, "unknown dtype ", dt);
                    free(dt);
                    return rc;
                }
                free(dt);
                t->dtype = (st_dtype)d;
            } else if (k == 1) {
                if ((rc = parse_uint_array(j, t->shape, ST_MAX_DIMS, &t->ndim, "shape"))) return rc;
            } else {
                uint64_t off[2];
                int n;
                const unsigned char *vat = j->p;
                if ((rc = parse_uint_array(j, off, 2, &n, "data_offsets"))) return rc;
                if (n != 2) {
                    j->p = vat;
                    skip_ws(j);
                    return jfail(j, "data_offsets needs [begin, end]", NULL);
                }
                t->begin = off[0], t->end = off[1];
            }
        } while (accept(j, ','));
        if (expect(j, '}', "expected ',' or '}' in a tensor's entry")) return DP_EIO;
    }
    if (!seen[0] || !seen[1] || !seen[2])
        return jfail(j, "tensor entry lacks ", !seen[0] ? "\"dtype\"" : !seen[1] ? "\"shape\"" : "\"data_offsets\"");
    return 0;
}

static int grow(void **p, int *cap, int need, size_t elem, jp *j) {
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q) return dp_fail(j->e, DP_ENOMEM, "out of memory reading '%s'", j->what);
    *p = q;
    *cap = ncap;
    return 0;
}

static int parse_metadata(jp *j, st_file *f, int *cap) {
    if (expect(j, '{', "expected '{' opening __metadata__")) return DP_EIO;
    if (accept(j, '}')) return 0;
    do {
        int rc = grow((void **)&f->meta, cap, f->n_meta + 1, sizeof *f->meta, j);
        if (rc) return rc;
        st_meta *m = &f->meta[f->n_meta];
        if ((rc = parse_string(j, &m->key))) return rc;
        m->value = NULL;
        f->n_meta++;
        if (expect(j, ':', "expected ':'")) return DP_EIO;
        if ((rc = parse_string(j, &m->value))) return rc;
    } while (accept(j, ','));
    return expect(j, '}', "expected ',' or '}' in __metadata__");
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

static int cmp_key(const void *a, const void *b) {
    return strcmp((*(const st_meta *const *)a)->key, (*(const st_meta *const *)b)->key);
}

/* The first name that appears twice (sorting: linear scans would be quadratic
 * on hostile input), or NULL; *oom is set when memory runs out. */
static const char *first_duplicate(const void *items, int n, size_t stride, size_t name_off,
                                   int (*cmp)(const void *, const void *), int *oom) {
    *oom = 0;
    if (n < 2) return NULL;
    const void **s = malloc((size_t)n * sizeof *s);
    if (!s) {
        *oom = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++) s[i] = (const char *)items + (size_t)i * stride;
    qsort(s, (size_t)n, sizeof *s, cmp);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++) {
        const char *a = *(char *const *)((const char *)s[i - 1] + name_off);
        const char *b = *(char *const *)((const char *)s[i] + name_off);
        if (!strcmp(a, b)) dup = b;
    }
    free(s);
    return dup;
}

static int cmp_offset(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Byte size of each tensor against its range, then the ranges must tile the
 * data section exactly, and names must be unique. */
static int validate(st_file *f, const unsigned char *data, uint64_t data_len, const char *what,
                    dp_err *e) {
    int oom;
    const char *dup = first_duplicate(f->meta, f->n_meta, sizeof *f->meta, offsetof(st_meta, key),
                                      cmp_key, &oom);
    if (oom) return dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", what);
    if (dup) return dp_fail(e, DP_EIO, "'%s': duplicate __metadata__ key %.200s", what, dup);
    for (int i = 0; i < f->n_tensors; i++) {
        st_tensor *t = &f->tensors[i];
        uint64_t bytes = st_dtype_size(t->dtype);
        int ok = 1;
        for (int d = 0; d < t->ndim; d++) ok &= !__builtin_mul_overflow(bytes, t->shape[d], &bytes);
        if (!ok)
            return dp_fail(e, DP_EIO, "'%s': tensor '%.200s': shape is too large", what, t->name);
        if (t->begin > t->end || t->end > data_len)
            return dp_fail(e, DP_EIO,
                           "'%s': tensor '%.200s': data_offsets [%llu, %llu] lie outside the %llu data "
                           "bytes", what, t->name, (unsigned long long)t->begin,
                           (unsigned long long)t->end, (unsigned long long)data_len);
        if (t->end - t->begin != bytes)
            return dp_fail(e, DP_EIO,
                           "'%s': tensor '%.200s': %s shape needs %llu bytes but data_offsets [%llu, "
                           "%llu] hold %llu", what, t->name, st_dtype_name(t->dtype),
                           (unsigned long long)bytes, (unsigned long long)t->begin,
                           (unsigned long long)t->end, (unsigned long long)(t->end - t->begin));
        t->data = data + t->begin;
    }
    if (f->n_tensors <= 0) {
        if (data_len)
            return dp_fail(e, DP_EIO, "'%s': %llu data bytes but no tensors", what,
                           (unsigned long long)data_len);
        return 0;
    }
    const st_tensor **s = malloc((size_t)f->n_tensors * sizeof *s);
    if (!s) return dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", what);
    for (int i = 0; i < f->n_tensors; i++) s[i] = &f->tensors[i];
    int rc = 0;
    dup = first_duplicate(f->tensors, f->n_tensors, sizeof *f->tensors, offsetof(st_tensor, name),
                          cmp_name, &oom);
    if (oom) rc = dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", what);
    else if (dup) rc = dp_fail(e, DP_EIO, "'%s': tensor '%.200s' appears twice", what, dup);
    if (!rc) qsort(s, (size_t)f->n_tensors, sizeof *s, cmp_offset);
    uint64_t pos = 0;
    for (int i = 0; i < f->n_tensors && !rc; i++) {
        if (s[i]->begin > pos)
            rc = dp_fail(e, DP_EIO, "'%s': data bytes [%llu, %llu) belong to no tensor (before '%.200s')",
                         what, (unsigned long long)pos, (unsigned long long)s[i]->begin,
                         s[i]->name);
        else if (s[i]->begin < pos)
            rc = dp_fail(e, DP_EIO, "'%s': tensor '%.200s' overlaps '%.200s' in the data", what,
                         s[i]->name, s[i - 1]->name);
        pos = s[i]->end;
    }
    if (!rc && pos != data_len)
        rc = dp_fail(e, DP_EIO, "'%s': data bytes [%llu, %llu) at the end belong to no tensor",
                     what, (unsigned long long)pos, (unsigned long long)data_len);
    free(s);
    return rc;
}

void st_free(st_file *f) {
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->tensors);
    free(f->meta);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

int st_parse(const unsigned char *bytes, size_t len, const char *what, st_file *f, dp_err *e) {
    memset(f, 0, sizeof *f);
    if (len < 8)
        return dp_fail(e, DP_EIO, "'%s' is too short to be a safetensors file (%zu bytes)", what, len);
    uint64_t n;
    memcpy(&n, bytes, sizeof n);
    if (n > len - 8)
        return dp_fail(e, DP_EIO,
                       "'%s': safetensors header length %llu exceeds the file (%zu bytes): not a "
                       "safetensors file, or truncated", what, (unsigned long long)n, len);
    if (n > ST_MAX_HEADER)
        return dp_fail(e, DP_EIO, "'%s': safetensors header of %llu bytes is over the %u limit",
                       what, (unsigned long long)n, ST_MAX_HEADER);
    if (n < 2 || bytes[8] != '{')
        return dp_fail(e, DP_EIO, "'%s': not a safetensors file (the header is not a JSON object)",
                       what);
    jp j = {.start = bytes + 8, .p = bytes + 8, .end = bytes + 8 + n, .what = what, .e = e};
    int cap = 0, mcap = 0, rc = 0, have_meta = 0;
    (void)expect(&j, '{', "");
    if (!accept(&j, '}')) {
        do {
            const unsigned char *at = j.p;
            char *name;
            if ((rc = parse_string(&j, &name))) goto fail;
            if (!strcmp(name, "__metadata__")) {
                free(name);
                if (have_meta) {
                    j.p = at;
                    skip_ws(&j);
                    rc = jfail(&j, "__metadata__ appears twice", NULL);
                    goto fail;
                }
                have_meta = 1;
                if ((rc = expect(&j, ':', "expected ':'"))) goto fail;
                if ((rc = parse_metadata(&j, f, &mcap))) goto fail;
                continue;
            }
            if (!name[0]) {
                free(name);
                j.p = at;
                skip_ws(&j);
                rc = jfail(&j, "empty tensor name", NULL);
                goto fail;
            }
            if ((rc = grow((void **)&f->tensors, &cap, f->n_tensors + 1, sizeof *f->tensors, &j))) {
                free(name);
                goto fail;
            }
            st_tensor *t = &f->tensors[f->n_tensors++];
            memset(t, 0, sizeof *t);
            t->name = name;
            if ((rc = expect(&j, ':', "expected ':'"))) goto fail;
            if ((rc = parse_tensor_info(&j, t))) goto fail;
        } while (accept(&j, ','));
        if ((rc = expect(&j, '}', "expected ',' or '}'"))) goto fail;
    }
    skip_ws(&j);
    if (j.p != j.end) {
        rc = jfail(&j, "unexpected bytes after the header's JSON object", NULL);
        goto fail;
    }
    if ((rc = validate(f, bytes + 8 + n, len - 8 - n, what, e))) goto fail;
    return 0;
fail:
    st_free(f);
    return rc;
}

int st_read(const char *path, st_file *f, dp_err *e) {
    memset(f, 0, sizeof *f);
    unsigned char *b;
    size_t n;
    /* the limit only keeps size + 1 from overflowing: st_parse checks the rest */
    int rc = file_read_all(path, "safetensors file", SIZE_MAX / 2, &b, &n, e);
    if (rc) return rc;
    rc = st_parse(b, n, path, f, e);
    if (rc) {
        free(b);
        return rc;
    }
    f->buf = b;
    return 0;
}

const st_tensor *st_find(const st_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *st_meta_get(const st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
    return NULL;
}

/* ---- writing ---- */

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap < b->len + n + 1) ncap *= 2;
        char *q = realloc(b->s, ncap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->s = q;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string literal; 0, or -1 when `s` is not valid UTF-8. */
static int sb_json(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            sb_put(b, esc, 2);
            p++;
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            sb_put(b, esc, 6);
            p++;
        } else {
            size_t l = utf8_len(p, end);
            if (!l) return -1;
            sb_put(b, (const char *)p, l);
            p += l;
        }
    }
    sb_put(b, "\"", 1);
    return 0;
}

int st_write(const char *path, const st_tensor *t, int n, const st_meta *meta, int n_meta,
             dp_err *e) {
    /* The caller's tensors are checked before anything is computed from them. */
    for (int i = 0; i < n; i++) {
        uint64_t bytes = st_dtype_size(t[i].dtype);
        int ok = t[i].name && t[i].name[0] && t[i].ndim >= 0 && t[i].ndim <= ST_MAX_DIMS && bytes;
        for (int d = 0; ok && d < t[i].ndim; d++) ok = !__builtin_mul_overflow(bytes, t[i].shape[d], &bytes);
        if (!ok || bytes > SIZE_MAX / 2)
            return dp_fail(e, DP_ERUNTIME, "cannot write '%s': tensor %d ('%.200s') has no name, "
                           "a bad dtype or a bad shape", path, i, t[i].name ? t[i].name : "");
    }
    int oom;
    const char *dup = first_duplicate(t, n, sizeof *t, offsetof(st_tensor, name), cmp_name, &oom);
    if (oom) return dp_fail(e, DP_ENOMEM, "out of memory writing '%s'", path);
    if (dup) return dp_fail(e, DP_ERUNTIME, "cannot write '%s': tensor '%.200s' appears twice", path, dup);
    /* Data goes largest element first so that every tensor is aligned to its
     * element size (the header is padded to 8), as the reference writer does;
     * the header keeps the caller's order. */
    uint64_t *off = calloc((size_t)n + 1, sizeof *off);
    if (!off) return dp_fail(e, DP_ENOMEM, "out of memory writing '%s'", path);
    uint64_t pos = 0;
    for (size_t sz = 8; sz >= 1; sz /= 2)
        for (int i = 0; i < n; i++) {
            if (st_dtype_size(t[i].dtype) != sz) continue;
            uint64_t bytes = sz;
            for (int d = 0; d < t[i].ndim; d++) bytes *= t[i].shape[d];
            off[i] = pos;
            pos += bytes;
        }
    sbuf h = {0};
    int bad = 0;
    sb_str(&h, "{");
    if (n_meta > 0) {
        sb_str(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) sb_str(&h, ",");
            bad |= sb_json(&h, meta[i].key);
            sb_str(&h, ":");
            bad |= sb_json(&h, meta[i].value);
        }
        sb_str(&h, "}");
    }
    for (int i = 0; i < n; i++) {
        char num[64];
        if (i || n_meta > 0) sb_str(&h, ",");
        bad |= sb_json(&h, t[i].name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, st_dtype_name(t[i].dtype));
        sb_str(&h, "\",\"shape\":[");
        uint64_t bytes = st_dtype_size(t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%llu", d ? "," : "", (unsigned long long)t[i].shape[d]);
            sb_str(&h, num);
            bytes *= t[i].shape[d];
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off[i],
                 (unsigned long long)(off[i] + bytes));
        sb_str(&h, num);
    }
    sb_str(&h, "}");
    while (!h.oom && h.len % 8) sb_str(&h, " ");
    if (h.oom) {
        free(h.s);
        free(off);
        return dp_fail(e, DP_ENOMEM, "out of memory writing '%s'", path);
    }
    if (bad) {
        free(h.s);
        free(off);
        return dp_fail(e, DP_ERUNTIME,
                       "cannot write '%s': a tensor name or metadata is not valid UTF-8", path);
    }

    atomic_file a;
    int rc = atomic_open(&a, path, NULL, e);
    if (!rc) {
        uint64_t hl = h.len;
        atomic_put(&a, &hl, 8);
        atomic_put(&a, h.s, h.len);
        for (size_t sz = 8; sz >= 1; sz /= 2)
            for (int i = 0; i < n; i++) {
                if (st_dtype_size(t[i].dtype) != sz) continue;
                size_t bytes = sz;
                for (int d = 0; d < t[i].ndim; d++) bytes *= t[i].shape[d];
                atomic_put(&a, t[i].data, bytes); /* skipped after a failed write */
            }
        rc = atomic_commit(&a, e);
    }
    free(h.s);
    free(off);
    return rc;
}
