/*  bench_geo.c — lookups per second of yx_geo_locate on one core.

    Loads config/city/streets.geojson and config/city/grids.geojson (or the
    two paths given as arguments), draws 1,000,000 uniformly random points in
    the bounding box of the street outlines, and times repeated passes of
    yx_geo_locate over them on the calling thread. Prints key=value lines,
    among them geo_lookups_per_sec=N.

    Usage: bench_geo [STREETS GRIDS]
*/
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../services/common/geo.h"

#define NPOINTS 1000000
#define ROUNDS 5

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

//  Widens bbox [min lon, min lat, max lon, max lat] with every position
//  nested anywhere in a coordinates value.

static void
s_widen (json_t *value, double *bbox)
{
    if (!json_is_array (value))
        return;
    json_t *lon = json_array_get (value, 0);
    json_t *lat = json_array_get (value, 1);
    if (json_is_number (lon) && json_is_number (lat)) {
        bbox [0] = fmin (bbox [0], json_number_value (lon));
        bbox [1] = fmin (bbox [1], json_number_value (lat));
        bbox [2] = fmax (bbox [2], json_number_value (lon));
        bbox [3] = fmax (bbox [3], json_number_value (lat));
        return;
    }
    for (size_t i = 0; i < json_array_size (value); i++)
        s_widen (json_array_get (value, i), bbox);
}

//  xorshift64*: a uniform double in [0, 1).

static double
s_random (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (double) ((*state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

int
main (int argc, char *argv [])
{
    const char *streets = argc > 2? argv [1]: "config/city/streets.geojson";
    const char *grids = argc > 2? argv [2]: "config/city/grids.geojson";
    char err [512];
    double start = s_now ();
    yx_geo_t *geo = yx_geo_new (streets, grids, err, sizeof err);
    if (!geo) {
        fprintf (stderr, "bench_geo: %s\n", err);
        return 1;
    }
    printf ("geo_load_ms=%.0f\n", (s_now () - start) * 1000);
    printf ("geo_grids=%d\n", yx_geo_grid_count (geo));

    json_error_t jerr;
    json_t *root = json_load_file (streets, 0, &jerr);
    double bbox [4] = { INFINITY, INFINITY, -INFINITY, -INFINITY };
    json_t *features = json_object_get (root, "features");
    for (size_t i = 0; i < json_array_size (features); i++)
        s_widen (json_object_get (json_object_get (json_array_get (features, i), "geometry"),
                                  "coordinates"), bbox);
    json_decref (root);
    printf ("geo_bbox=%.6f,%.6f,%.6f,%.6f\n", bbox [0], bbox [1], bbox [2], bbox [3]);

    double *points = malloc (2 * NPOINTS * sizeof (double));
    if (!points)
        return 1;
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < NPOINTS; i++) {
        points [2 * i] = bbox [1] + s_random (&state) * (bbox [3] - bbox [1]);
        points [2 * i + 1] = bbox [0] + s_random (&state) * (bbox [2] - bbox [0]);
    }
    long how [3] = { 0, 0, 0 };
    yx_geo_loc_t loc;
    for (int i = 0; i < NPOINTS; i++) {
        yx_geo_locate (geo, points [2 * i], points [2 * i + 1], &loc);
        how [loc.how]++;
    }
    printf ("geo_in_grid_pct=%.1f\ngeo_nearest_street_pct=%.1f\ngeo_outside_pct=%.1f\n",
            100.0 * how [0] / NPOINTS, 100.0 * how [1] / NPOINTS, 100.0 * how [2] / NPOINTS);

    long checksum = 0;
    start = s_now ();
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < NPOINTS; i++) {
            yx_geo_locate (geo, points [2 * i], points [2 * i + 1], &loc);
            checksum += loc.how + loc.grid [14];
        }
    double elapsed = s_now () - start;
    printf ("geo_checksum=%ld\n", checksum);
    printf ("geo_ns_per_lookup=%.1f\n", elapsed * 1e9 / ((double) ROUNDS * NPOINTS));
    printf ("geo_lookups_per_sec=%.0f\n", (double) ROUNDS * NPOINTS / elapsed);
    free (points);
    yx_geo_destroy (&geo);
    return 0;
}
