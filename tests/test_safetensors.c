/* The safetensors format: bitwise round trip of every dtype and metadata,
 * headers as other writers produce them, one test per kind of corrupt
 * header (each must give DP_EIO and a message naming the input, never a
 * crash), and a small deterministic mutation sweep. Inputs are copied into
 * exact-size allocations so that the sanitizer build catches any overread. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

#define TMPDIR_PREFIX "dppf_st"
#include "tmpdir.h"

TestSuite(safetensors, .init = make_dir, .fini = remove_dir);


/* An image: u64 header length, the header bytes, then `data_len` bytes 0..255. */
static unsigned char *image(const char *header, size_t hlen, size_t data_len, size_t *len) {
    *len = 8 + hlen + data_len;
    unsigned char *b = malloc(*len ? *len : 1);
    cr_assert_not_null(b);
    uint64_t n = hlen;
    memcpy(b, &n, 8);
    memcpy(b + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++) b[8 + hlen + i] = (unsigned char)i;
    return b;
}

/* Parses header + data and expects DP_EIO with `want` in the message. */
static void expect_bad(const char *header, size_t data_len, const char *want) {
    size_t len;
    unsigned char *b = image(header, strlen(header), data_len, &len);
    st_file f;
    dp_err e = {0};
    int rc = st_parse(b, len, "mem.safetensors", &f, &e);
    cr_expect_eq(rc, DP_EIO, "header %s: rc %d, expected DP_EIO (%s)", header, rc, e.msg);
    cr_expect(strstr(e.msg, "mem.safetensors") != NULL, "message does not name the input: %s", e.msg);
    cr_expect(strstr(e.msg, want) != NULL, "header %s: message '%s' lacks '%s'", header, e.msg, want);
    if (rc == 0) st_free(&f);
    free(b);
}

static void expect_good(const char *header, size_t data_len, int n_tensors) {
    size_t len;
    unsigned char *b = image(header, strlen(header), data_len, &len);
    st_file f;
    dp_err e = {0};
    int rc = st_parse(b, len, "mem.safetensors", &f, &e);
    cr_assert_eq(rc, 0, "header %s: %s", header, e.msg);
    cr_expect_eq(f.n_tensors, n_tensors);
    st_free(&f);
    free(b);
}

#define T(name, dt, shape, b, e) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(safetensors, round_trip_every_dtype_and_metadata) {
    float f32[6] = {1.5f, -0.0f, 3e-39f, 1e30f, -7.25f, 42.0f};
    int64_t i64 = -1234567890123LL;
    unsigned char u8[5] = {0, 1, 127, 128, 255};
    uint16_t f16[3] = {0x3c00, 0x8000, 0x7bff};
    double f64[2] = {3.141592653589793, -2.5e-300};
    st_tensor t[] = {
        {.name = "conv1.weight", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}, .data = f32},
        {.name = "bn1.num_batches_tracked", .dtype = ST_I64, .ndim = 0, .data = &i64},
        {.name = "bytes", .dtype = ST_U8, .ndim = 1, .shape = {5}, .data = u8},
        {.name = "half", .dtype = ST_F16, .ndim = 1, .shape = {3}, .data = f16},
        {.name = "empty", .dtype = ST_F32, .ndim = 2, .shape = {0, 4}, .data = NULL},
        {.name = "d\xc3\xa9j\xc3\xa0 \"vu\"\\", .dtype = ST_F64, .ndim = 1, .shape = {2}, .data = f64},
    };
    st_meta m[] = {{"format", "pt"},
                   {"spec", "model:\n  arch: cnn\t# \"quoted\" \\ \x01 caf\xc3\xa9 \xf0\x9f\x98\x80\n"},
                   {"empty", ""}};
    dp_err e = {0};
    char *path = in_dir("m.safetensors");
    cr_assert_eq(st_write(path, t, 6, m, 3, &e), 0, "%s", e.msg);
    st_file f;
    cr_assert_eq(st_read(path, &f, &e), 0, "%s", e.msg);
    cr_assert_eq(f.n_tensors, 6);
    for (int i = 0; i < 6; i++) {
        const st_tensor *g = &f.tensors[i]; /* header order is kept */
        cr_expect_str_eq(g->name, t[i].name);
        cr_expect_eq(g->dtype, t[i].dtype, "%s", g->name);
        cr_expect_eq(g->ndim, t[i].ndim, "%s", g->name);
        size_t bytes = st_dtype_size(g->dtype);
        for (int d = 0; d < g->ndim; d++) {
            cr_expect_eq(g->shape[d], t[i].shape[d]);
            bytes *= g->shape[d];
        }
        cr_expect_eq(g->end - g->begin, bytes, "%s", g->name);
        cr_expect_eq(g->begin % st_dtype_size(g->dtype), 0, "%s is not aligned", g->name);
        if (bytes) cr_expect(memcmp(g->data, t[i].data, bytes) == 0, "%s: data differ", g->name);
    }
    cr_expect_eq(st_find(&f, "half"), &f.tensors[3]);
    cr_expect_null(st_find(&f, "nothing"));
    cr_assert_eq(f.n_meta, 3);
    for (int i = 0; i < 3; i++) cr_expect_str_eq(st_meta_get(&f, m[i].key), m[i].value);
    uint64_t hlen;
    memcpy(&hlen, f.buf, 8);
    cr_expect_eq(hlen % 8, 0, "header length %llu is not padded to 8", (unsigned long long)hlen);
    st_free(&f);
    /* Written atomically: nothing but the file is left in the folder. */
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) n += de->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(n, 1);
}

Test(safetensors, headers_as_other_writers_write_them) {
    /* Whitespace, escapes, key order, metadata last, no tensors. */
    expect_good("{ \"__metadata__\" : { \"format\" : \"pt\" } ,\n\t\"a\\u00e9\\ud83d\\ude00\" : "
                "{ \"shape\" : [ 2 ] , \"data_offsets\" : [ 0 , 8 ] , \"dtype\" : \"F32\" } }   ",
                8, 1);
    expect_good("{" T("b", "I64", "[]", 0, 8) "," T("a", "F32", "[1,1]", 8, 12) ",\"__metadata__\":{}}", 12, 2);
    expect_good("{}", 0, 0);
    expect_good("{\"__metadata__\":{\"k\":\"v\"}}        ", 0, 0);
    expect_good("{" T("z", "BF16", "[0]", 0, 0) "," T("y", "U8", "[3]", 0, 3) "}", 3, 2);
    /* The decoded name is UTF-8. */
    size_t len;
    const char *h = "{\"x\\u00e9\\ud83d\\ude00\\n\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    unsigned char *b = image(h, strlen(h), 1, &len);
    st_file f;
    dp_err e = {0};
    cr_assert_eq(st_parse(b, len, "mem", &f, &e), 0, "%s", e.msg);
    cr_expect_str_eq(f.tensors[0].name, "x\xc3\xa9\xf0\x9f\x98\x80\n");
    st_free(&f);
    free(b);
}

Test(safetensors, header_length_vs_file_size) {
    st_file f;
    dp_err e = {0};
    unsigned char small[5] = {1, 2, 3, 4, 5};
    cr_expect_eq(st_parse(small, sizeof small, "mem.safetensors", &f, &e), DP_EIO);
    cr_expect(strstr(e.msg, "too short") != NULL, "%s", e.msg);
    size_t len;
    unsigned char *b = image("{}", 2, 0, &len);
    uint64_t n = 3; /* one byte past the end */
    memcpy(b, &n, 8);
    cr_expect_eq(st_parse(b, len, "mem.safetensors", &f, &e), DP_EIO);
    cr_expect(strstr(e.msg, "exceeds the file") != NULL, "%s", e.msg);
    n = UINT64_MAX;
    memcpy(b, &n, 8);
    cr_expect_eq(st_parse(b, len, "mem.safetensors", &f, &e), DP_EIO);
    cr_expect(strstr(e.msg, "exceeds the file") != NULL, "%s", e.msg);
    n = 0;
    memcpy(b, &n, 8);
    cr_expect_eq(st_parse(b, len, "mem.safetensors", &f, &e), DP_EIO);
    cr_expect(strstr(e.msg, "not a JSON object") != NULL, "%s", e.msg);
    free(b);
    /* A checkpoint or a pickle is not a safetensors file. */
    const unsigned char pk[16] = {0x80, 0x02, '}', 'q', 0, '(', 'X', 1, 0, 0, 0, 'a', 'q', 1, 'K', 2};
    b = malloc(16);
    memcpy(b, pk, 16);
    cr_expect_eq(st_parse(b, 16, "mem.safetensors", &f, &e), DP_EIO);
    free(b);
}

Test(safetensors, bad_json_syntax) {
    expect_bad("[]", 0, "not a JSON object");
    expect_bad(" {}", 0, "not a JSON object");
    expect_bad("{} x", 0, "unexpected bytes after");
    expect_bad("{}{}", 0, "unexpected bytes after");
    expect_bad("{ ", 0, "expected a string");
    expect_bad("{\"a", 0, "unterminated string");
    expect_bad("{\"a\\", 0, "unterminated string");
    expect_bad("{\"a\" {}}", 0, "expected ':'");
    expect_bad("{" T("a", "U8", "[1]", 0, 1) " " T("b", "U8", "[1]", 1, 2) "}", 2, "expected ',' or '}'");
    expect_bad("{" T("a", "U8", "[1]", 0, 1) ",}", 1, "expected a string");
    expect_bad("{\"a\":true}", 0, "expected '{'");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1, "expected ',' or '}'");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1 2],\"data_offsets\":[0,1]}}", 1, "expected ',' or ']'");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,],\"data_offsets\":[0,1]}}", 1, "non-negative integer");
    expect_bad("{\"a\":{\"dtype\":U8,\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "expected a string");
}

Test(safetensors, bad_strings) {
    expect_bad("{\"a\\q\":{}}", 0, "bad escape");
    expect_bad("{\"a\\u12\":{}}", 0, "bad escape");
    expect_bad("{\"a\\ud800\":{}}", 0, "surrogate");
    expect_bad("{\"a\\udc00x\":{}}", 0, "surrogate");
    expect_bad("{\"a\\ud800\\u0041\":{}}", 0, "surrogate");
    expect_bad("{\"a\\u0000\":{}}", 0, "NUL");
    expect_bad("{\"a\nb\":{}}", 0, "control character");
    expect_bad("{\"a\xff\":{}}", 0, "invalid UTF-8");
    expect_bad("{\"a\xc0\x80\":{}}", 0, "invalid UTF-8");       /* overlong NUL */
    expect_bad("{\"a\xed\xa0\x80\":{}}", 0, "invalid UTF-8");   /* encoded surrogate */
    expect_bad("{\"a\xe2\x82\":{}}", 0, "invalid UTF-8");       /* truncated sequence */
    expect_bad("{\"\":" "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "empty tensor name");
}

Test(safetensors, bad_numbers) {
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, "non-negative integer");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1, "fraction");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1e0],\"data_offsets\":[0,1]}}", 1, "fraction");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", 1, "leading zero");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]}}", 1, "too large");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}", 1, "non-negative integer");
}

Test(safetensors, bad_tensor_entries) {
    expect_bad("{" T("a", "F31", "[1]", 0, 4) "}", 4, "unknown dtype F31");
    expect_bad("{" T("a", "f32", "[1]", 0, 4) "}", 4, "unknown dtype f32");
    expect_bad("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "lacks \"dtype\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "lacks \"shape\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "lacks \"data_offsets\"");
    expect_bad("{\"a\":{}}", 0, "lacks");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "duplicate key dtype");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":[]}}", 4,
               "unknown key in a tensor's entry: extra");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "too many entries");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, "[begin, end]");
    expect_bad("{" T("a", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) "}", 1, "too many entries in shape");
}

Test(safetensors, shapes_vs_byte_ranges) {
    expect_bad("{" T("a", "F32", "[2]", 0, 4) "}", 4, "needs 8 bytes");
    expect_bad("{" T("a", "F32", "[]", 0, 8) "}", 8, "needs 4 bytes");
    expect_bad("{" T("a", "F64", "[2,0]", 0, 8) "}", 8, "needs 0 bytes");
    expect_bad("{" T("a", "F32", "[4294967296,4294967296]", 0, 4) "}", 4, "too large");
    expect_bad("{" T("a", "U8", "[4]", 8, 4) "}", 8, "outside");
    expect_bad("{" T("a", "U8", "[16]", 0, 16) "}", 8, "outside the 8 data bytes");
    expect_bad("{" T("a", "U8", "[4]", 18446744073709551612, 18446744073709551615) "}", 8, "outside");
}

Test(safetensors, overlaps_holes_duplicates) {
    expect_bad("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 4, 12) "}", 12, "overlaps");
    expect_bad("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 0, 8) "}", 8, "overlaps");
    expect_bad("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 8, 12) "}", 12, "belong to no tensor");
    expect_bad("{" T("a", "F32", "[1]", 4, 8) "}", 8, "belong to no tensor");
    expect_bad("{" T("a", "F32", "[1]", 0, 4) "}", 8, "at the end belong to no tensor");
    expect_bad("{}", 4, "no tensors");
    expect_bad("{" T("a", "F32", "[1]", 0, 4) "," T("a", "F32", "[1]", 4, 8) "}", 8, "appears twice");
}

Test(safetensors, bad_metadata) {
    expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "expected a string");
    expect_bad("{\"__metadata__\":[]}", 0, "opening __metadata__");
    expect_bad("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "duplicate __metadata__ key k");
    expect_bad("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "appears twice");
    expect_bad("{\"__metadata__\":{\"k\":\"v\",}}", 0, "expected a string");
}

/* Every truncation, and every byte of a valid file replaced by a few values:
 * the parser must return (accept or reject), never read outside the input. */
Test(safetensors, truncations_and_mutations_never_crash) {
    float v[3] = {1, 2, 3};
    int64_t k = 7;
    st_tensor t[] = {{.name = "w", .dtype = ST_F32, .ndim = 2, .shape = {1, 3}, .data = v},
                     {.name = "n\\b", .dtype = ST_I64, .ndim = 0, .data = &k}};
    st_meta m[] = {{"format", "pt"}, {"x", "\xc3\xa9\n"}};
    dp_err e = {0};
    char *path = in_dir("v.safetensors");
    cr_assert_eq(st_write(path, t, 2, m, 2, &e), 0, "%s", e.msg);
    st_file f;
    cr_assert_eq(st_read(path, &f, &e), 0, "%s", e.msg);
    size_t len = 8, hl;
    memcpy(&hl, f.buf, 8);
    len += hl + 20;
    unsigned char *good = malloc(len);
    memcpy(good, f.buf, len);
    st_free(&f);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *b = malloc(cut ? cut : 1);
        memcpy(b, good, cut);
        cr_expect_neq(st_parse(b, cut, "cut", &f, &e), 0, "a file cut to %zu bytes was accepted", cut);
        free(b);
    }
    static const unsigned char vals[] = {0, '"', '\\', '{', '}', '[', ']', ',', ':', '0', '9', 0x80, 0xff, ' '};
    int accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t j = 0; j < sizeof vals; j++) {
            unsigned char *b = malloc(len);
            memcpy(b, good, len);
            b[i] = vals[j];
            if (st_parse(b, len, "mut", &f, &e) == 0) {
                accepted++;
                st_free(&f);
            } else {
                cr_expect(e.code == DP_EIO && strstr(e.msg, "mut"), "%s", e.msg);
            }
            free(b);
        }
    cr_expect_gt(accepted, 0); /* e.g. changes inside the data */
    free(good);
}

Test(safetensors, read_and_write_errors_name_the_file) {
    st_file f;
    dp_err e = {0};
    cr_expect_eq(st_read(in_dir("missing.safetensors"), &f, &e), DP_EIO);
    cr_expect(strstr(e.msg, "missing.safetensors") != NULL, "%s", e.msg);
    cr_expect_eq(st_read(g_dir, &f, &e), DP_EIO);
    float v = 1;
    st_tensor t[2] = {{.name = "a", .dtype = ST_F32, .ndim = 0, .data = &v},
                      {.name = "a", .dtype = ST_F32, .ndim = 0, .data = &v}};
    cr_expect_eq(st_write(in_dir("dup.safetensors"), t, 2, NULL, 0, &e), DP_ERUNTIME);
    t[1].name = "b\xff";
    cr_expect_eq(st_write(in_dir("utf.safetensors"), t, 2, NULL, 0, &e), DP_ERUNTIME);
    t[1] = (st_tensor){.name = "c", .dtype = ST_F32, .ndim = ST_MAX_DIMS + 1, .data = &v};
    cr_expect_eq(st_write(in_dir("dims.safetensors"), t, 2, NULL, 0, &e), DP_ERUNTIME);
    t[1] = (st_tensor){.name = "", .dtype = ST_F32, .ndim = 0, .data = &v};
    cr_expect_eq(st_write(in_dir("noname.safetensors"), t, 2, NULL, 0, &e), DP_ERUNTIME);
    cr_expect_eq(st_write(in_dir("no/such/dir.safetensors"), t, 1, NULL, 0, &e), DP_EIO);
    cr_expect(strstr(e.msg, "dir.safetensors") != NULL, "%s", e.msg);
    cr_expect_eq(access(in_dir("dup.safetensors"), F_OK), -1);
}
