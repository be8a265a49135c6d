/* font.h - an embedded 5x7 bitmap font (ASCII 32..126) for plot labels.
 *
 * Each glyph occupies a FONT_CELL_W x FONT_CELL_H cell: 5x7 ink above the
 * baseline, one descender row (g j p q y ,) and one column and row of
 * spacing, multiplied by an integer scale >= 1.
 * Drawing targets a row-major RGB8 buffer (3 bytes a pixel) and clips to it;
 * characters outside 32..126 draw as '?'. */
#ifndef DPPF_FONT_H
#define DPPF_FONT_H

#include <stdint.h>

#define FONT_GLYPH_W 5
#define FONT_GLYPH_H 7
#define FONT_CELL_W 6
#define FONT_DESCENT 1
#define FONT_CELL_H 9

/* The glyph of `ch` as FONT_GLYPH_W column bytes; bit r (LSB = top row) of
 * column c set means ink at (c, r); bit 7 is the descender row. */
const uint8_t *font_glyph(char ch);

/* Width in pixels of `s` at `scale` (FONT_CELL_W * scale per character, the
 * trailing spacing column excluded); 0 for an empty string. */
int font_text_width(const char *s, int scale);
/* Height of a line of text above the baseline: FONT_GLYPH_H * scale
 * (descenders reach FONT_DESCENT * scale further down). */
int font_text_height(int scale);

/* Draws `s` with its top-left ink corner at (x, y). */
void font_draw(uint8_t *rgb, int w, int h, int x, int y, const char *s, int scale, const uint8_t col[3]);

/* Draws `s` rotated 90 degrees counter-clockwise (reading bottom to top, as a
 * y-axis label): the rotated text occupies the box with top-left (x, y),
 * width (FONT_GLYPH_H + FONT_DESCENT) * scale and height font_text_width(s, scale). */
void font_draw_vertical(uint8_t *rgb, int w, int h, int x, int y, const char *s, int scale,
                        const uint8_t col[3]);

#endif
