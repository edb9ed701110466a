/*  geo.h — the location module: point → grid → community → street → district.

    Loads the real street outlines (streets.geojson) and the grid polygons
    (grids.geojson), both WGS84 [lon, lat], and answers "where is this point"
    at well over a million lookups per second on one core. A point in no grid
    but near a street (the real outlines leave slivers) is given that street
    and its nearest grid; a point far from every street is OUTSIDE.
    See docs/location.md for the index design and the data contract.

    A yx_geo_t is immutable once built (and its gazetteer loaded), so any
    number of threads may call the locate functions at once.
*/
#ifndef YX_GEO_H_INCLUDED
#define YX_GEO_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A point farther than this from every street outline is OUTSIDE */
#define YX_GEO_NEAR_LIMIT_M 2000.0

typedef struct yx_geo yx_geo_t;

typedef enum {
    YX_GEO_IN_GRID = 0,         /* the point lies inside a grid polygon */
    YX_GEO_NEAREST_STREET = 1,  /* in no grid; street (and grid) nearest to it */
    YX_GEO_OUTSIDE = 2          /* farther than YX_GEO_NEAR_LIMIT_M from any street */
} yx_geo_how_t;

typedef struct {
    char grid[16];        /* 15-digit grid code, "" if none */
    char community[13];   /* 12-digit community code, "" if none */
    char street[10];      /* 9-digit street code, "" if none */
    char district[7];     /* 6-digit district code, "" if outside */
    yx_geo_how_t how;     /* how the location was found */
} yx_geo_loc_t;

/* Loads street outlines and grid polygons; NULL with a precise message in
   err (file, feature index, what) on bad input. */
yx_geo_t *yx_geo_new (const char *streets_path, const char *grids_path, char *err, size_t errlen);

/* Same from memory buffers (used by the fuzzer and tests). The buffers need
   not be NUL-terminated and are not kept. */
yx_geo_t *yx_geo_new_from_memory (const char *streets_json, size_t slen,
                                  const char *grids_json, size_t glen,
                                  char *err, size_t errlen);

/* Frees the object and sets *self_p to NULL; safe on NULL. */
void yx_geo_destroy (yx_geo_t **self_p);

/* Loads (replacing any earlier one) the gazetteer: header "name<TAB>grid",
   then one "name<TAB>15-digit grid code" per line. Every grid must exist and
   names must be unique. Not thread-safe: call before sharing the object.
   0, or -1 with "FILE:LINE: what" in err. */
int yx_geo_load_gazetteer (yx_geo_t *self, const char *path, char *err, size_t errlen);

/* Locates a WGS84 point. Inside a grid: IN_GRID with all codes. In no grid
   but within YX_GEO_NEAR_LIMIT_M of a street outline: NEAREST_STREET with
   street + district and the nearest grid of that street (grid and community
   stay "" only if the street has no grid). Otherwise OUTSIDE with all codes
   "". Returns 0 unless the point is not a valid coordinate (NaN, |lat| > 90,
   |lon| > 180): -1 with out set to OUTSIDE. Thread-safe, never allocates. */
int yx_geo_locate (const yx_geo_t *self, double lat, double lon, yx_geo_loc_t *out);

/* Grid code → its community/street/district (how = IN_GRID) and a
   representative point inside the grid (lat/lon may be NULL). -1 if the code
   is unknown, with out set to OUTSIDE and lat/lon untouched. */
int yx_geo_locate_grid (const yx_geo_t *self, const char *grid, yx_geo_loc_t *out,
                        double *lat, double *lon);

/* Address text → location through the gazetteer: the longest gazetteer name
   contained in the address wins (ties: the earlier line). Output as for
   yx_geo_locate_grid. -1 if no name matches or no gazetteer is loaded. */
int yx_geo_locate_address (const yx_geo_t *self, const char *address, yx_geo_loc_t *out,
                           double *lat, double *lon);

/* GCJ-02 ("Mars coordinates") → WGS84: iterative inverse of the standard
   WGS84 → GCJ-02 transform, accurate to well under 0.5 m inside China.
   Points outside China are returned unchanged, as by the forward transform. */
void yx_geo_gcj02_to_wgs84 (double gcj_lat, double gcj_lon, double *wgs_lat, double *wgs_lon);

/* WGS84 → GCJ-02, the standard (Krasovsky ellipsoid) obfuscation transform. */
void yx_geo_wgs84_to_gcj02 (double lat, double lon, double *gcj_lat, double *gcj_lon);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double yx_geo_distance_m (double lat1, double lon1, double lat2, double lon2);

/* Number of grid polygons loaded. */
int yx_geo_grid_count (const yx_geo_t *self);

#ifdef __cplusplus
}
#endif

#endif
