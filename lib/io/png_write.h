/* png_write.h - RGB8 images to and from PNG files (libpng).
 *
 * Pixels are row-major, top row first, 3 bytes (r, g, b) per pixel. */
#ifndef DPPF_PNG_WRITE_H
#define DPPF_PNG_WRITE_H

#include <stdint.h>

#include "error.h"

/* Writes a w x h RGB8 image to `path` atomically: into a temporary file in the
 * same directory, renamed over `path` only when complete, so a reader never
 * sees a half-written picture. DP_EIO naming the path on failure. */
int png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, dp_err *e);

/* A tEXt chunk: keyword (1-79 Latin-1 characters) and text. */
typedef struct {
    const char *key, *text;
} png_text_kv;

/* The same with tEXt chunks (pairs whose text is NULL are left out) and, for
 * dpi > 0, the resolution (pHYs, pixels per metre) so viewers and word
 * processors size the picture in inches. */
int png_write_rgb_meta(const char *path, int w, int h, const uint8_t *rgb, double dpi,
                       const png_text_kv *text, int ntext, dp_err *e);

/* Reads any PNG as RGB8 (alpha composited onto black, palettes expanded).
 * *rgb is malloc'ed (caller frees). DP_EIO naming the path on failure. */
int png_read_rgb(const char *path, int *w, int *h, uint8_t **rgb, dp_err *e);

#endif
