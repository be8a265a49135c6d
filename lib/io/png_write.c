#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "png_write.h"

/* libpng reports errors through a callback that must not return: copy the
 * message where png_write_rgb can put it into dp_err, then longjmp. */
typedef struct {
    char msg[256];
} png_errbuf;

static void on_png_error(png_structp p, png_const_charp msg) {
    png_errbuf *b = png_get_error_ptr(p);
    if (b) snprintf(b->msg, sizeof b->msg, "%s", msg);
    png_longjmp(p, 1);
}

static void on_png_warning(png_structp p, png_const_charp msg) {
    (void)p; /* warnings (e.g. about ancillary chunks) are not worth failing for */
    (void)msg;
}

int png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, dp_err *e) {
    return png_write_rgb_meta(path, w, h, rgb, 0, NULL, 0, e);
}

int png_write_rgb_meta(const char *path, int w, int h, const uint8_t *rgb, double dpi,
                       const png_text_kv *text, int ntext, dp_err *e) {
    if (w <= 0 || h <= 0 || w > 1000000 || h > 1000000)
        return dp_fail(e, DP_EIO, "cannot write PNG '%s': bad image size %dx%d", path, w, h);
    atomic_file a;
    int rc = atomic_open(&a, path, "PNG", e);
    if (rc) return rc;
    png_errbuf eb = {"unknown libpng error"};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &eb, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        atomic_abort(&a);
        return dp_fail(e, DP_ENOMEM, "out of memory writing PNG '%s'", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        /* Nothing modified after setjmp is read here except via png/info (not
         * reassigned) and eb and a (memory, not registers), so no volatile needed. */
        png_destroy_write_struct(&png, &info);
        atomic_abort(&a);
        return dp_fail(e, DP_EIO, "cannot write PNG '%s': %s", path, eb.msg);
    }
    png_init_io(png, a.f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    if (dpi > 0) {
        png_uint_32 ppm = (png_uint_32)(dpi / 0.0254 + 0.5);
        png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
    }
    /* at most 8 chunks: the figures carry software, command line and spec */
    png_text chunks[8];
    int nc = 0;
    for (int i = 0; i < ntext && nc < 8; i++) {
        if (!text[i].text) continue;
        memset(&chunks[nc], 0, sizeof chunks[nc]);
        chunks[nc].compression = PNG_TEXT_COMPRESSION_NONE;
        chunks[nc].key = (png_charp)text[i].key;
        chunks[nc].text = (png_charp)text[i].text;
        chunks[nc].text_length = strlen(text[i].text);
        nc++;
    }
    if (nc) png_set_text(png, info, chunks, nc);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return atomic_commit(&a, e);
}

int png_read_rgb(const char *path, int *w, int *h, uint8_t **rgb, dp_err *e) {
    *rgb = NULL;
    *w = *h = 0;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    FILE *f;
    int rc = file_fopen_read(path, "PNG", &f, e);
    if (rc) return rc;
    if (!png_image_begin_read_from_stdio(&img, f)) {
        fclose(f);
        return dp_fail(e, DP_EIO, "cannot read PNG '%s': %s", path, img.message);
    }
    img.format = PNG_FORMAT_RGB;
    size_t n = PNG_IMAGE_SIZE(img);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        png_image_free(&img);
        fclose(f);
        return dp_fail(e, DP_ENOMEM, "out of memory reading PNG '%s'", path);
    }
    /* libpng does not close a stream it was given */
    int ok = png_image_finish_read(&img, NULL, buf, 0, NULL);
    fclose(f);
    if (!ok) {
        rc = dp_fail(e, DP_EIO, "cannot read PNG '%s': %s", path, img.message);
        free(buf);
        png_image_free(&img);
        return rc;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    *rgb = buf;
    return 0;
}
