/*  geo_near.c — nearest-street index of the location module.

    For points that fall in no grid and no street (the real outlines leave
    slivers, river banks and ragged edges uncovered). Street edges live in a
    local metric plane; a grid of square cells covers the streets' box grown
    by the distance limit, and each cell lists the only edges that can be
    nearest to a point in it: with c the cell centre, r its half-diagonal and
    d the distance from c to the nearest edge, the nearest edge to any point
    of the cell is within d + 2r of c. Cells farther than limit + r from
    every edge, and cells wholly inside a street, list nothing.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_private.h"

/* What a pass over the cells around each edge does */
typedef enum {
    S_MIN,      /* lower each cell's distance to its nearest edge */
    S_COUNT,    /* count the candidates of each needed cell */
    S_FILL      /* store them */
} s_pass_t;

/* Build state */
typedef struct {
    yx_geo_nindex_t *index;   /* index being built */
    double *dist;             /* per cell: centre to nearest edge, metres */
    uint8_t *need;            /* per cell: 1 if points there may need the index */
    double half;              /* half-diagonal of a cell */
} s_builder_t;

//  Squared distance from (x, y) to the segment; *t gets the parameter of
//  the nearest point.

static double
s_dist2 (const yx_geo_seg_t *seg, double x, double y, double *t)
{
    double u = ((x - seg->ax) * seg->dx + (y - seg->ay) * seg->dy) * seg->inv_len2;
    u = u < 0? 0: u > 1? 1: u;
    double ex = seg->ax + u * seg->dx - x;
    double ey = seg->ay + u * seg->dy - y;
    *t = u;
    return ex * ex + ey * ey;
}

//  Converts the street outlines to segments in the metric plane.

static int
s_segments (yx_geo_nindex_t *self, const yx_geo_layer_t *streets)
{
    int rings = streets->ring_first [streets->count];
    int total = streets->ring_start [rings] - rings;
    self->segs = malloc ((size_t) (total > 0? total: 1) * sizeof (yx_geo_seg_t));
    if (!self->segs)
        return -1;
    const yx_geo_plane_t *pl = &self->plane;
    for (int shape = 0; shape < streets->count; shape++)
        for (int ring = streets->ring_first [shape]; ring < streets->ring_first [shape + 1]; ring++)
            for (int v = streets->ring_start [ring]; v < streets->ring_start [ring + 1] - 1; v++) {
                const double *p = streets->pts + 2 * v;
                yx_geo_seg_t *seg = self->segs + self->nsegs++;
                seg->ax = (p [0] - pl->lon0) * pl->kx;
                seg->ay = (p [1] - pl->lat0) * pl->ky;
                seg->dx = (p [2] - pl->lon0) * pl->kx - seg->ax;
                seg->dy = (p [3] - pl->lat0) * pl->ky - seg->ay;
                double len2 = seg->dx * seg->dx + seg->dy * seg->dy;
                seg->inv_len2 = len2 > 0? 1 / len2: 0;
                seg->shape = shape;
            }
    return 0;
}

//  Chooses the box (segments' box grown by the limit) and a cell side giving
//  about 16 cells per edge, between 4,096 and ~2 million cells.

static void
s_layout (yx_geo_nindex_t *self)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < self->nsegs; i++) {
        const yx_geo_seg_t *s = self->segs + i;
        minx = fmin (minx, fmin (s->ax, s->ax + s->dx));
        maxx = fmax (maxx, fmax (s->ax, s->ax + s->dx));
        miny = fmin (miny, fmin (s->ay, s->ay + s->dy));
        maxy = fmax (maxy, fmax (s->ay, s->ay + s->dy));
    }
    double spanx = maxx - minx + 2 * self->limit;
    double spany = maxy - miny + 2 * self->limit;
    double target = fmin (fmax (16.0 * self->nsegs, 4096), 2097152);
    double size = fmax (sqrt (spanx * spany / target), 10);
    self->size = fmax (size, fmax (spanx, spany) / 4000);
    self->inv_size = 1 / self->size;
    self->cols = (int) ceil (spanx * self->inv_size) + 2;
    self->rows = (int) ceil (spany * self->inv_size) + 2;
    self->x0 = minx - self->limit - self->size;
    self->y0 = miny - self->limit - self->size;
}

//  Applies pass to every cell whose centre may lie within reach of seg:
//  row by row, the segment's extent over the rows' latitudes grown by reach.

static void
s_visit (s_builder_t *b, int segi, double reach, s_pass_t pass)
{
    yx_geo_nindex_t *idx = b->index;
    const yx_geo_seg_t *seg = idx->segs + segi;
    double ylo = fmin (seg->ay, seg->ay + seg->dy);
    double yhi = fmax (seg->ay, seg->ay + seg->dy);
    int r0 = (int) fmax (ceil ((ylo - reach - idx->y0) * idx->inv_size - 0.5), 0);
    int r1 = (int) fmin (floor ((yhi + reach - idx->y0) * idx->inv_size - 0.5), idx->rows - 1);
    for (int r = r0; r <= r1; r++) {
        double cy = idx->y0 + (r + 0.5) * idx->size;
        double xlo = fmin (seg->ax, seg->ax + seg->dx);
        double xhi = fmax (seg->ax, seg->ax + seg->dx);
        if (seg->dy != 0) {
            //  x at the ends of the segment's part within reach of this row
            double t0 = (fmax (cy - reach, ylo) - seg->ay) / seg->dy;
            double t1 = (fmin (cy + reach, yhi) - seg->ay) / seg->dy;
            double xa = seg->ax + fmin (fmax (t0, 0), 1) * seg->dx;
            double xb = seg->ax + fmin (fmax (t1, 0), 1) * seg->dx;
            xlo = fmin (xa, xb);
            xhi = fmax (xa, xb);
        }
        int c0 = (int) fmax (ceil ((xlo - reach - idx->x0) * idx->inv_size - 0.5), 0);
        int c1 = (int) fmin (floor ((xhi + reach - idx->x0) * idx->inv_size - 0.5), idx->cols - 1);
        for (int c = c0; c <= c1; c++) {
            size_t cell = (size_t) r * (size_t) idx->cols + (size_t) c;
            if (pass != S_MIN && !b->need [cell])
                continue;
            double t;
            double d2 = s_dist2 (seg, idx->x0 + (c + 0.5) * idx->size, cy, &t);
            if (pass == S_MIN) {
                if (d2 < b->dist [cell])
                    b->dist [cell] = d2;        //  squared until s_mark
            }
            else {
                double reach2 = b->dist [cell] + 2 * b->half;
                if (d2 <= reach2 * reach2) {
                    if (pass == S_COUNT)
                        idx->cell_off [cell + 1]++;
                    else
                        idx->cand [idx->cell_off [cell]++] = (uint32_t) segi;
                }
            }
        }
    }
}

//  Marks the cells whose points may be in no street yet near one: within
//  limit + half of an edge, and not wholly inside a street. Turns the
//  squared distances of the S_MIN pass into distances.

static void
s_mark (s_builder_t *b, const yx_geo_pindex_t *contain)
{
    yx_geo_nindex_t *idx = b->index;
    const yx_geo_plane_t *pl = &idx->plane;
    for (int r = 0; r < idx->rows; r++)
        for (int c = 0; c < idx->cols; c++) {
            size_t cell = (size_t) r * (size_t) idx->cols + (size_t) c;
            double d = b->dist [cell] = sqrt (b->dist [cell]);
            if (d > idx->limit + b->half)
                continue;
            double lon = pl->lon0 + (idx->x0 + (c + 0.5) * idx->size) / pl->kx;
            double lat = pl->lat0 + (idx->y0 + (r + 0.5) * idx->size) / pl->ky;
            b->need [cell] = d <= b->half || yx_geo_pindex_find (contain, lon, lat) < 0;
        }
}

//  Builds the nearest-edge index over the streets layer.

int
yx_geo_nindex_build (yx_geo_nindex_t *self, const yx_geo_layer_t *streets,
                     const yx_geo_pindex_t *contain, const yx_geo_plane_t *plane,
                     double limit, char *err, size_t errlen)
{
    memset (self, 0, sizeof *self);
    self->plane = *plane;
    self->limit = limit;
    s_builder_t b = { .index = self };
    int rc = s_segments (self, streets);
    size_t ncells = 0;
    if (rc == 0) {
        s_layout (self);
        b.half = self->size * M_SQRT1_2;
        ncells = (size_t) self->cols * (size_t) self->rows;
        b.dist = malloc (ncells * sizeof (double));
        b.need = calloc (ncells, 1);
        self->cell_off = calloc (ncells + 1, sizeof (uint32_t));
        rc = b.dist && b.need && self->cell_off? 0: -1;
    }
    if (rc == 0) {
        for (size_t i = 0; i < ncells; i++)
            b.dist [i] = INFINITY;
        for (int i = 0; i < self->nsegs; i++)
            s_visit (&b, i, limit + b.half, S_MIN);
        s_mark (&b, contain);
        for (int i = 0; i < self->nsegs; i++)
            s_visit (&b, i, limit + 3 * b.half, S_COUNT);
        for (size_t i = 0; i < ncells; i++) {
            if (self->cell_off [i + 1] > UINT32_MAX - self->cell_off [i])
                rc = -1;
            self->cell_off [i + 1] += self->cell_off [i];
        }
    }
    if (rc == 0) {
        self->cand = malloc (((size_t) self->cell_off [ncells] + 1) * sizeof (uint32_t));
        rc = self->cand? 0: -1;
    }
    if (rc == 0) {
        for (int i = 0; i < self->nsegs; i++)
            s_visit (&b, i, limit + 3 * b.half, S_FILL);
        for (size_t i = ncells; i > 0; i--)
            self->cell_off [i] = self->cell_off [i - 1];
        self->cell_off [0] = 0;
    }
    free (b.dist);
    free (b.need);
    if (rc) {
        snprintf (err, errlen, "out of memory or nearest-street index too large");
        yx_geo_nindex_free (self);
    }
    return rc;
}

void
yx_geo_nindex_free (yx_geo_nindex_t *self)
{
    free (self->cell_off);
    free (self->cand);
    free (self->segs);
    memset (self, 0, sizeof *self);
}

//  Street nearest to (lon, lat) within the limit, or -1; (qlon, qlat) gets
//  the nearest point of its outline.

int
yx_geo_nindex_nearest (const yx_geo_nindex_t *self, double lon, double lat,
                       double *qlon, double *qlat)
{
    const yx_geo_plane_t *pl = &self->plane;
    double x = (lon - pl->lon0) * pl->kx;
    double y = (lat - pl->lat0) * pl->ky;
    double fx = (x - self->x0) * self->inv_size;
    double fy = (y - self->y0) * self->inv_size;
    if (!(fx >= 0 && fx < self->cols && fy >= 0 && fy < self->rows))
        return -1;
    size_t cell = (size_t) (int) fy * (size_t) self->cols + (size_t) (int) fx;
    double best = self->limit * self->limit;
    double best_t = 0;
    const yx_geo_seg_t *nearest = NULL;
    for (uint32_t i = self->cell_off [cell]; i < self->cell_off [cell + 1]; i++) {
        const yx_geo_seg_t *seg = self->segs + self->cand [i];
        double t;
        double d2 = s_dist2 (seg, x, y, &t);
        if (d2 < best || (d2 == best && !nearest)) {
            best = d2;
            best_t = t;
            nearest = seg;
        }
    }
    if (!nearest)
        return -1;
    *qlon = pl->lon0 + (nearest->ax + best_t * nearest->dx) / pl->kx;
    *qlat = pl->lat0 + (nearest->ay + best_t * nearest->dy) / pl->ky;
    return nearest->shape;
}
