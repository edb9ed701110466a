/*  geo_private.h — internals of the location module, shared by geo.c,
    geo_geojson.c (loader), geo_index.c (point-in-polygon index),
    geo_near.c (nearest-street index) and geo_coord.c (datums, distance).
    Not part of the public API.
*/
#ifndef YX_GEO_PRIVATE_H_INCLUDED
#define YX_GEO_PRIVATE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "geo.h"

#ifndef streq
#   define streq(s1,s2) (!strcmp ((s1), (s2)))
#endif

/* Mean Earth radius (IUGG), metres: for haversine and the local plane */
#define YX_GEO_EARTH_M 6371008.8

/* Degrees: margin that absorbs rounding in cell arithmetic (~0.1 mm) */
#define YX_GEO_EPS 1e-9

/* What a GeoJSON file holds, and so which properties each feature needs */
typedef enum {
    YX_GEO_STREETS,    /* properties.adcode (9 digits), district_adcode (6) */
    YX_GEO_GRIDS       /* properties.code (15), community (12), street (9), district (6) */
} yx_geo_kind_t;

/* The administrative codes of one feature ("" where the level does not apply) */
typedef struct {
    char grid[16];        /* 15-digit grid code */
    char community[13];   /* 12-digit community code */
    char street[10];      /* 9-digit street code */
    char district[7];     /* 6-digit district code */
} yx_geo_codes_t;

/* The polygons of one GeoJSON file: one shape per feature. All rings of a
   shape (outer rings and holes of every polygon) are tested together with
   the even-odd rule, which is exact for valid Polygon/MultiPolygon input. */
typedef struct {
    int count;               /* number of shapes (features) */
    int *ring_first;         /* per shape: its first ring; [count] = number of rings */
    int *ring_start;         /* per ring: its first vertex; [rings] = number of vertices */
    double *pts;             /* vertices as lon, lat pairs; every ring is closed */
    double *bbox;            /* per shape: min lon, min lat, max lon, max lat */
    yx_geo_codes_t *codes;   /* per shape: its codes */
} yx_geo_layer_t;

/* Local equirectangular plane in metres, good to ~0.5 % across a city */
typedef struct {
    double lon0, lat0;    /* origin, degrees */
    double kx, ky;        /* metres per degree of longitude, latitude */
} yx_geo_plane_t;

/* One shape's business in one cell of the point-in-polygon index */
typedef struct {
    uint32_t shape;       /* shape tested */
    uint32_t off;         /* first double of its data in the pool */
    uint32_t n_edge;      /* edge records (y1, y2, x1, slope) that touch the cell */
    uint32_t n_brk;       /* sorted latitudes after the edges, each flips parity at/above it */
    uint32_t base;        /* parity of the edges wholly right of the cell below every breakpoint */
} yx_geo_entry_t;

/* Uniform grid of cells over a layer; see docs/location.md */
typedef struct {
    double x0, y0;            /* lower-left corner of the indexed box, degrees */
    double w, h;              /* cell width and height, degrees */
    double inv_w, inv_h;      /* cells per degree across, up */
    int cols, rows;           /* grid dimensions */
    uint32_t *cell_off;       /* per cell: first entry; [cols * rows] = number of entries */
    yx_geo_entry_t *entries;  /* entries grouped by cell, by shape within a cell */
    double *pool;             /* edge records and breakpoints the entries point into */
} yx_geo_pindex_t;

/* A street outline edge in the metric plane */
typedef struct {
    double ax, ay;        /* start, metres */
    double dx, dy;        /* vector to the end, metres */
    double inv_len2;      /* 1 / |d|^2, or 0 for a zero-length edge */
    int shape;            /* street the edge belongs to */
} yx_geo_seg_t;

/* Grid of cells in the metric plane, each listing the only street edges
   that can be nearest to a point of the cell */
typedef struct {
    yx_geo_plane_t plane;     /* lon/lat ↔ metres */
    double x0, y0;            /* lower-left corner of the box, metres */
    double size;              /* cell side, metres */
    double inv_size;          /* 1 / size */
    double limit;             /* farther than this from every edge is outside */
    int cols, rows;           /* grid dimensions */
    uint32_t *cell_off;       /* per cell: first candidate; [cols * rows] = count */
    uint32_t *cand;           /* candidate edge indices grouped by cell */
    yx_geo_seg_t *segs;       /* all street edges */
    int nsegs;                /* number of edges */
} yx_geo_nindex_t;

/* geo_geojson.c: parses one FeatureCollection of Polygon/MultiPolygon
   features into layer (zeroed by the caller). name labels error messages.
   0, or -1 with "NAME: feature N: what" in err and layer freed. */
int yx_geo_layer_parse (yx_geo_layer_t *layer, yx_geo_kind_t kind, const char *name,
                        const char *text, size_t len, char *err, size_t errlen);
void yx_geo_layer_free (yx_geo_layer_t *layer);

/* geo_index.c: builds the point-in-polygon index of a non-empty layer. */
int yx_geo_pindex_build (yx_geo_pindex_t *self, const yx_geo_layer_t *layer,
                         char *err, size_t errlen);
void yx_geo_pindex_free (yx_geo_pindex_t *self);
/* Shape containing (lon, lat) by the half-open even-odd rule, lowest index
   if several do; -1 if none. A point on an edge shared by two shapes
   belongs to exactly one of them. */
int yx_geo_pindex_find (const yx_geo_pindex_t *self, double lon, double lat);
/* A point well inside shape (midpoint of the widest scanline span), -1 if
   the shape has no area. */
int yx_geo_layer_inside_point (const yx_geo_layer_t *layer, int shape, double *lon, double *lat);

/* geo_near.c: builds the nearest-edge index over the streets layer;
   contain is its point-in-polygon index (cells wholly inside a street need
   no candidates). */
int yx_geo_nindex_build (yx_geo_nindex_t *self, const yx_geo_layer_t *streets,
                         const yx_geo_pindex_t *contain, const yx_geo_plane_t *plane,
                         double limit, char *err, size_t errlen);
void yx_geo_nindex_free (yx_geo_nindex_t *self);
/* Street with the edge nearest to (lon, lat) if within the limit, and the
   nearest point (qlon, qlat) on it; -1 if none. */
int yx_geo_nindex_nearest (const yx_geo_nindex_t *self, double lon, double lat,
                           double *qlon, double *qlat);

/* geo_geojson.c: grows buf to hold at least need elements of size elem;
   returns the new buffer, or NULL (buf still valid) on overflow or OOM. */
void *yx_geo_grow (void *buf, size_t *cap, size_t need, size_t elem);

#endif
