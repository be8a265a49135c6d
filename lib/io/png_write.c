#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    if (w <= 0 || h <= 0 || w > 1000000 || h > 1000000)
        return dp_fail(e, DP_EIO, "cannot write PNG '%s': bad image size %dx%d", path, w, h);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return dp_fail(e, DP_ENOMEM, "out of memory writing '%s'", path);
    /* open() with 0666 rather than mkstemp's 0600, so the umask decides as for
     * any other output file; the pid keeps concurrent writers apart. */
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        int rc = dp_fail(e, DP_EIO, "cannot write PNG '%s': %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int rc = dp_fail(e, DP_EIO, "cannot write PNG '%s': %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    png_errbuf eb = {"unknown libpng error"};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &eb, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        fclose(f);
        unlink(tmp);
        free(tmp);
        return dp_fail(e, DP_ENOMEM, "out of memory writing PNG '%s'", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        /* Nothing modified after setjmp is read here except via png/info (not
         * reassigned) and eb (memory, not a register), so no volatile needed. */
        png_destroy_write_struct(&png, &info);
        fclose(f);
        unlink(tmp);
        int rc = dp_fail(e, DP_EIO, "cannot write PNG '%s': %s", path, eb.msg);
        free(tmp);
        return rc;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        int rc = dp_fail(e, DP_EIO, "cannot write PNG '%s': %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = dp_fail(e, DP_EIO, "cannot write PNG '%s': rename: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return 0;
}

int png_read_rgb(const char *path, int *w, int *h, uint8_t **rgb, dp_err *e) {
    *rgb = NULL;
    *w = *h = 0;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return dp_fail(e, DP_EIO, "cannot read PNG '%s': %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    size_t n = PNG_IMAGE_SIZE(img);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        png_image_free(&img);
        return dp_fail(e, DP_ENOMEM, "out of memory reading PNG '%s'", path);
    }
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        int rc = dp_fail(e, DP_EIO, "cannot read PNG '%s': %s", path, img.message);
        free(buf);
        png_image_free(&img);
        return rc;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    *rgb = buf;
    return 0;
}
