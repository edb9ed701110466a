/*  geo_index.c — point-in-polygon index of the location module.

    A uniform grid of cells covers the layer. For every cell and every shape
    whose outline matters there, an entry holds what the even-odd ray cast
    (ray towards +lon, half-open in latitude) needs inside that cell:

      - the shape's edges that touch the cell (tested exactly at query time),
      - the parity contributed by edges wholly to the right of the cell, which
        depends only on the query latitude: a base bit plus a short sorted list
        of latitudes ("breakpoints") at which it flips.

    Edges wholly left of the cell never cross the ray. So the answer is the
    exact ray cast over the whole shape, computed from a handful of numbers:
    a cell deep inside a grid holds one entry with no edges and base 1. The
    same canonical edge record is used by both shapes sharing an edge, so a
    point on a shared edge belongs to exactly one of them.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_private.h"

/* An edge in canonical form (y1 < y2), identical for both shapes sharing it */
typedef struct {
    double x1, y1;      /* lower end */
    double y2;          /* upper latitude */
    double slope;       /* d lon / d lat */
    int ca, cb;         /* columns in which the edge must be tested exactly */
} s_edge_t;

/* An edge of the current row: sort key and edge */
typedef struct {
    int ca;             /* first column where the edge is not wholly right */
    int edge;           /* index into the builder's edges */
} s_band_t;

/* An entry waiting to be sorted into its cell */
typedef struct {
    uint32_t cell;          /* cell it belongs to */
    yx_geo_entry_t entry;   /* the entry */
} s_pending_t;

/* Scratch state while building; every array is reused across shapes */
typedef struct {
    yx_geo_pindex_t *index;     /* index being built */
    s_edge_t *edges;            /* edges of the current shape */
    size_t edge_cap;            /* capacity of edges */
    int *row_first;             /* per row of the shape: first in row_list */
    size_t row_first_cap;       /* capacity of row_first */
    int *row_list;              /* edge indices grouped by row */
    size_t row_list_cap;        /* capacity of row_list */
    s_band_t *band;             /* edges of the current row */
    size_t band_cap;            /* capacity of band */
    int *col_first;             /* per column of the shape: first in col_list */
    size_t col_first_cap;       /* capacity of col_first */
    int *col_list;              /* edges to test exactly, grouped by column */
    size_t col_list_cap;        /* capacity of col_list */
    double *kept;               /* sorted breakpoints of the current cell */
    size_t kept_cap;            /* capacity of kept */
    int nkept;                  /* breakpoints in kept */
    s_pending_t *pending;       /* entries of all shapes so far */
    size_t pending_cap;         /* capacity of pending */
    size_t npending;            /* entries in pending */
    size_t pool_cap;            /* capacity of index->pool */
    size_t npool;               /* doubles in index->pool */
} s_builder_t;

//  Column of longitude x, clamped to [-1, cols] so it always fits an int.

static int
s_col (const yx_geo_pindex_t *self, double x)
{
    double c = floor ((x - self->x0) * self->inv_w);
    return c < -1? -1: c > self->cols? self->cols: (int) c;
}

//  Row of latitude y, clamped to [-1, rows].

static int
s_row (const yx_geo_pindex_t *self, double y)
{
    double r = floor ((y - self->y0) * self->inv_h);
    return r < -1? -1: r > self->rows? self->rows: (int) r;
}

//  Chooses the box and cell size: about max(2 × edges, 256 × shapes) cells
//  of roughly square ground size, at least 4,096 and at most ~4 million.

static void
s_layout (yx_geo_pindex_t *self, const yx_geo_layer_t *layer)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < layer->count; i++) {
        minx = fmin (minx, layer->bbox [4 * i]);
        miny = fmin (miny, layer->bbox [4 * i + 1]);
        maxx = fmax (maxx, layer->bbox [4 * i + 2]);
        maxy = fmax (maxy, layer->bbox [4 * i + 3]);
    }
    double coslat = fmax (cos ((miny + maxy) / 2 * M_PI / 180), 0.01);
    double spanx = (maxx - minx) * coslat;
    double spany = maxy - miny;
    double edges = layer->ring_start [layer->ring_first [layer->count]];
    double target = fmin (fmax (fmax (2 * edges, 256.0 * layer->count), 4096), 4194304);
    double side = sqrt (spanx * spany / target);
    side = fmax (side, fmax (fmax (spanx, spany) / 4000, 1e-7));
    self->w = side / coslat;
    self->h = side;
    self->inv_w = 1 / self->w;
    self->inv_h = 1 / self->h;
    self->cols = (int) ceil ((maxx - minx) * self->inv_w) + 2;
    self->rows = (int) ceil ((maxy - miny) * self->inv_h) + 2;
    self->x0 = minx - self->w;
    self->y0 = miny - self->h;
}

//  Collects the shape's non-horizontal edges in canonical form.

static int
s_collect_edges (s_builder_t *b, const yx_geo_layer_t *layer, int shape, int *nedges)
{
    int first = layer->ring_start [layer->ring_first [shape]];
    int last = layer->ring_start [layer->ring_first [shape + 1]];
    s_edge_t *edges = yx_geo_grow (b->edges, &b->edge_cap, (size_t) (last - first), sizeof *edges);
    if (!edges)
        return -1;
    b->edges = edges;
    int n = 0;
    for (int ring = layer->ring_first [shape]; ring < layer->ring_first [shape + 1]; ring++)
        for (int v = layer->ring_start [ring]; v < layer->ring_start [ring + 1] - 1; v++) {
            const double *p = layer->pts + 2 * v;
            const double *q = p + 2;
            if (p [1] == q [1])
                continue;           //  horizontal edges never cross the ray
            if (p [1] > q [1]) {
                const double *t = p; p = q; q = t;
            }
            s_edge_t *e = edges + n++;
            e->x1 = p [0];
            e->y1 = p [1];
            e->y2 = q [1];
            e->slope = (q [0] - p [0]) / (q [1] - p [1]);
            e->ca = s_col (b->index, fmin (p [0], q [0]) - 2 * YX_GEO_EPS);
            e->cb = s_col (b->index, fmax (p [0], q [0]) + 2 * YX_GEO_EPS);
        }
    *nedges = n;
    return 0;
}

//  Flips breakpoint y in the sorted kept list: a value present twice cancels.

static int
s_toggle (s_builder_t *b, double y)
{
    int i = 0;
    while (i < b->nkept && b->kept [i] < y)
        i++;
    if (i < b->nkept && b->kept [i] == y) {
        memmove (b->kept + i, b->kept + i + 1, (size_t) (b->nkept - i - 1) * sizeof (double));
        b->nkept--;
        return 0;
    }
    double *kept = yx_geo_grow (b->kept, &b->kept_cap, (size_t) b->nkept + 1, sizeof (double));
    if (!kept)
        return -1;
    b->kept = kept;
    memmove (kept + i + 1, kept + i, (size_t) (b->nkept - i) * sizeof (double));
    kept [i] = y;
    b->nkept++;
    return 0;
}

//  Appends an entry for cell with the given exact edges and the current
//  breakpoints.

static int
s_emit (s_builder_t *b, uint32_t cell, int shape, const int *list, int na, int base)
{
    size_t need = b->npool + 4 * (size_t) na + (size_t) b->nkept;
    if (need > UINT32_MAX || b->npending >= UINT32_MAX)
        return -1;
    double *pool = yx_geo_grow (b->index->pool, &b->pool_cap, need, sizeof (double));
    if (!pool)
        return -1;
    b->index->pool = pool;
    s_pending_t *pending = yx_geo_grow (b->pending, &b->pending_cap, b->npending + 1, sizeof *pending);
    if (!pending)
        return -1;
    b->pending = pending;
    pending [b->npending++] = (s_pending_t) { cell, {
        (uint32_t) shape, (uint32_t) b->npool, (uint32_t) na, (uint32_t) b->nkept, (uint32_t) base } };
    double *out = pool + b->npool;
    for (int i = 0; i < na; i++) {
        const s_edge_t *e = b->edges + list [i];
        *out++ = e->y1;
        *out++ = e->y2;
        *out++ = e->x1;
        *out++ = e->slope;
    }
    if (b->nkept)
        memcpy (out, b->kept, (size_t) b->nkept * sizeof (double));
    b->npool = need;
    return 0;
}

static int
s_band_cmp (const void *a, const void *b)
{
    const s_band_t *x = a, *y = b;
    return x->ca != y->ca? (x->ca < y->ca? 1: -1): x->edge - y->edge;
}

//  Builds the entries of one row of a shape (columns c0..c1), sweeping from
//  right to left so that edges join the "wholly right" set once.

static int
s_row_entries (s_builder_t *b, int shape, int row, int c0, int c1, const int *list, int n)
{
    yx_geo_pindex_t *idx = b->index;
    double lo = idx->y0 + row * idx->h - YX_GEO_EPS;
    double hi = idx->y0 + (row + 1) * idx->h + YX_GEO_EPS;
    int ncols = c1 - c0 + 1;
    s_band_t *band = yx_geo_grow (b->band, &b->band_cap, (size_t) n, sizeof *band);
    int *col_first = yx_geo_grow (b->col_first, &b->col_first_cap, (size_t) ncols + 1, sizeof (int));
    if (!band || !col_first)
        return -1;
    b->band = band;
    b->col_first = col_first;
    memset (col_first, 0, ((size_t) ncols + 1) * sizeof (int));
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const s_edge_t *e = b->edges + list [i];
        band [i] = (s_band_t) { e->ca, list [i] };
        for (int c = e->ca > c0? e->ca: c0; c <= e->cb && c <= c1; c++, total++)
            col_first [c - c0 + 1]++;
    }
    int *col_list = yx_geo_grow (b->col_list, &b->col_list_cap, total + 1, sizeof (int));
    if (!col_list)
        return -1;
    b->col_list = col_list;
    for (int c = 0; c < ncols; c++)
        col_first [c + 1] += col_first [c];
    for (int i = 0; i < n; i++) {
        const s_edge_t *e = b->edges + list [i];
        for (int c = e->ca > c0? e->ca: c0; c <= e->cb && c <= c1; c++)
            col_list [col_first [c - c0]++] = list [i];
    }
    for (int c = ncols; c > 0; c--)
        col_first [c] = col_first [c - 1];
    col_first [0] = 0;
    qsort (band, (size_t) n, sizeof *band, s_band_cmp);

    int base = 0;
    int k = 0;
    b->nkept = 0;
    for (int c = c1; c >= c0; c--) {
        for (; k < n && band [k].ca > c; k++) {
            const s_edge_t *e = b->edges + band [k].edge;
            double ends [2] = { e->y1, e->y2 };
            for (int j = 0; j < 2; j++)
                if (ends [j] <= lo)
                    base ^= 1;          //  counted for every latitude of the cell
                else
                if (ends [j] <= hi && s_toggle (b, ends [j]))
                    return -1;
        }
        int na = col_first [c - c0 + 1] - col_first [c - c0];
        if ((na || b->nkept || base)
        &&  s_emit (b, (uint32_t) (row * idx->cols + c), shape, col_list + col_first [c - c0], na, base))
            return -1;
    }
    return 0;
}

//  Builds all entries of one shape.

static int
s_shape_entries (s_builder_t *b, const yx_geo_layer_t *layer, int shape)
{
    yx_geo_pindex_t *idx = b->index;
    int nedges;
    if (s_collect_edges (b, layer, shape, &nedges))
        return -1;
    const double *bbox = layer->bbox + 4 * shape;
    int r0 = s_row (idx, bbox [1] - 2 * YX_GEO_EPS);
    int r1 = s_row (idx, bbox [3] + 2 * YX_GEO_EPS);
    int c0 = s_col (idx, bbox [0] - 2 * YX_GEO_EPS);
    int c1 = s_col (idx, bbox [2] + 2 * YX_GEO_EPS);
    r0 = r0 < 0? 0: r0;
    c0 = c0 < 0? 0: c0;
    r1 = r1 >= idx->rows? idx->rows - 1: r1;
    c1 = c1 >= idx->cols? idx->cols - 1: c1;
    int nrows = r1 - r0 + 1;
    int *row_first = yx_geo_grow (b->row_first, &b->row_first_cap, (size_t) nrows + 1, sizeof (int));
    if (!row_first)
        return -1;
    b->row_first = row_first;
    memset (row_first, 0, ((size_t) nrows + 1) * sizeof (int));
    size_t total = 0;
    for (int i = 0; i < nedges; i++) {
        int er0 = s_row (idx, b->edges [i].y1 - 2 * YX_GEO_EPS);
        int er1 = s_row (idx, b->edges [i].y2 + 2 * YX_GEO_EPS);
        for (int r = er0 > r0? er0: r0; r <= er1 && r <= r1; r++, total++)
            row_first [r - r0 + 1]++;
    }
    int *row_list = yx_geo_grow (b->row_list, &b->row_list_cap, total + 1, sizeof (int));
    if (!row_list)
        return -1;
    b->row_list = row_list;
    for (int r = 0; r < nrows; r++)
        row_first [r + 1] += row_first [r];
    for (int i = 0; i < nedges; i++) {
        int er0 = s_row (idx, b->edges [i].y1 - 2 * YX_GEO_EPS);
        int er1 = s_row (idx, b->edges [i].y2 + 2 * YX_GEO_EPS);
        for (int r = er0 > r0? er0: r0; r <= er1 && r <= r1; r++)
            row_list [row_first [r - r0]++] = i;
    }
    //  row_first [r] now holds the end of row r; rows start where the previous ends
    for (int r = r0, start = 0; r <= r1; r++) {
        int end = row_first [r - r0];
        if (end > start
        &&  s_row_entries (b, shape, r, c0, c1, row_list + start, end - start))
            return -1;
        start = end;
    }
    return 0;
}

//  Sorts the pending entries into cells (stable: shape order within a cell).

static int
s_finish (s_builder_t *b)
{
    yx_geo_pindex_t *idx = b->index;
    size_t ncells = (size_t) idx->cols * (size_t) idx->rows;
    idx->cell_off = calloc (ncells + 1, sizeof (uint32_t));
    idx->entries = malloc ((b->npending + 1) * sizeof (yx_geo_entry_t));
    if (!idx->cell_off || !idx->entries)
        return -1;
    for (size_t i = 0; i < b->npending; i++)
        idx->cell_off [b->pending [i].cell + 1]++;
    for (size_t c = 0; c < ncells; c++)
        idx->cell_off [c + 1] += idx->cell_off [c];
    for (size_t i = 0; i < b->npending; i++)
        idx->entries [idx->cell_off [b->pending [i].cell]++] = b->pending [i].entry;
    for (size_t c = ncells; c > 0; c--)
        idx->cell_off [c] = idx->cell_off [c - 1];
    idx->cell_off [0] = 0;
    return 0;
}

//  Builds the point-in-polygon index of a non-empty layer.

int
yx_geo_pindex_build (yx_geo_pindex_t *self, const yx_geo_layer_t *layer, char *err, size_t errlen)
{
    memset (self, 0, sizeof *self);
    s_layout (self, layer);
    s_builder_t b = { .index = self };
    int rc = 0;
    for (int shape = 0; shape < layer->count && rc == 0; shape++)
        rc = s_shape_entries (&b, layer, shape);
    if (rc == 0)
        rc = s_finish (&b);
    free (b.edges);
    free (b.row_first);
    free (b.row_list);
    free (b.band);
    free (b.col_first);
    free (b.col_list);
    free (b.kept);
    free (b.pending);
    if (rc) {
        snprintf (err, errlen, "out of memory or index too large (%d x %d cells)", self->cols, self->rows);
        yx_geo_pindex_free (self);
    }
    return rc;
}

void
yx_geo_pindex_free (yx_geo_pindex_t *self)
{
    free (self->cell_off);
    free (self->entries);
    free (self->pool);
    memset (self, 0, sizeof *self);
}

//  Shape containing (lon, lat), or -1. The hot path: one cell, a few
//  entries, each a handful of comparisons.

int
yx_geo_pindex_find (const yx_geo_pindex_t *self, double lon, double lat)
{
    double fx = (lon - self->x0) * self->inv_w;
    double fy = (lat - self->y0) * self->inv_h;
    if (!(fx >= 0 && fx < self->cols && fy >= 0 && fy < self->rows))
        return -1;
    size_t cell = (size_t) (int) fy * (size_t) self->cols + (size_t) (int) fx;
    const yx_geo_entry_t *entry = self->entries + self->cell_off [cell];
    const yx_geo_entry_t *end = self->entries + self->cell_off [cell + 1];
    for (; entry < end; entry++) {
        const double *d = self->pool + entry->off;
        uint32_t parity = entry->base;
        for (uint32_t i = 0; i < entry->n_edge; i++, d += 4)
            if (d [0] <= lat && lat < d [1] && lon < d [2] + (lat - d [0]) * d [3])
                parity ^= 1;
        for (uint32_t i = 0; i < entry->n_brk; i++)
            parity ^= d [i] <= lat;
        if (parity)
            return (int) entry->shape;
    }
    return -1;
}

static int
s_double_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

//  Widens *best with the widest even-odd span of the shape on latitude y,
//  setting (lon, lat) to its midpoint. xs has room for every vertex.

static void
s_scanline (const yx_geo_layer_t *layer, int shape, double y, double *xs,
            double *best, double *lon, double *lat)
{
    size_t n = 0;
    for (int ring = layer->ring_first [shape]; ring < layer->ring_first [shape + 1]; ring++)
        for (int v = layer->ring_start [ring]; v < layer->ring_start [ring + 1] - 1; v++) {
            const double *p = layer->pts + 2 * v;
            const double *q = p + 2;
            if (p [1] > q [1]) {
                const double *t = p; p = q; q = t;
            }
            if (p [1] <= y && y < q [1])
                xs [n++] = p [0] + (y - p [1]) * ((q [0] - p [0]) / (q [1] - p [1]));
        }
    qsort (xs, n, sizeof (double), s_double_cmp);
    for (size_t i = 0; i + 1 < n; i += 2)
        if (xs [i + 1] - xs [i] > *best) {
            *best = xs [i + 1] - xs [i];
            *lon = xs [i] + *best / 2;
            *lat = y;
        }
}

//  A point inside the shape: the midpoint of the widest even-odd span over
//  seven scanlines, computed with the same arithmetic as
//  yx_geo_pindex_find. If those all miss (e.g. a MultiPolygon of small
//  parts at opposite corners), scans midway between every pair of
//  consecutive vertex latitudes, which finds any area there is.

int
yx_geo_layer_inside_point (const yx_geo_layer_t *layer, int shape, double *lon, double *lat)
{
    static const double fractions [] = { 0.5, 0.25, 0.75, 0.375, 0.625, 0.125, 0.875 };
    int first = layer->ring_start [layer->ring_first [shape]];
    int last = layer->ring_start [layer->ring_first [shape + 1]];
    size_t n = (size_t) (last - first);
    double *xs = malloc (2 * n * sizeof (double));
    if (!xs)
        return -1;
    double *ys = xs + n;
    const double *bbox = layer->bbox + 4 * shape;
    double best = 0;
    for (size_t f = 0; f < sizeof fractions / sizeof fractions [0]; f++)
        s_scanline (layer, shape, bbox [1] + fractions [f] * (bbox [3] - bbox [1]), xs, &best, lon, lat);
    if (best == 0) {
        for (size_t i = 0; i < n; i++)
            ys [i] = layer->pts [2 * (first + i) + 1];
        qsort (ys, n, sizeof (double), s_double_cmp);
        for (size_t i = 0; i + 1 < n; i++)
            if (ys [i] < ys [i + 1])
                s_scanline (layer, shape, ys [i] + (ys [i + 1] - ys [i]) / 2, xs, &best, lon, lat);
    }
    free (xs);
    return best > 0? 0: -1;
}
