/*  fuzz_geojson.c — libFuzzer harness over the GeoJSON loader and the
    indexes built from it (services/common/geo*.c).

    An input holding a NUL byte is split there into a streets document and a
    grids document. An input without one is tried twice: as the streets
    document next to a fixed valid grids document, and as the grids document
    next to fixed valid streets. Whatever loads is then queried, and these
    must hold (else abort, which the fuzzer reports):

      - a rejected input comes with a message;
      - every located point's grid is known to yx_geo_locate_grid, with the
        same codes, and that grid's representative point locates back to it;
      - every answer's codes are prefixes of one another.

    Build: clang -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE
           -g -O1 tests/fuzz/fuzz_geojson.c services/common/geo*.c -ljansson -lm
    Run:   ./fuzz_geojson tests/fuzz/corpus/geojson -max_total_time=60
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/common/geo.h"

static const char s_streets [] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"adcode\":350102001,\"district_adcode\":350102},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[119.30,26.08],[119.32,26.08],[119.32,26.10],[119.30,26.10],[119.30,26.08]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"adcode\":\"350111001\",\"district_adcode\":\"350111\"},"
    "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":"
    "[[[[119.36,26.08],[119.37,26.08],[119.37,26.09],[119.36,26.09],[119.36,26.08]]]]}}]}";

static const char s_grids [] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"350102001001001\",\"community\":\"350102001001\","
    "\"street\":\"350102001\",\"district\":\"350102\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[119.30,26.08],[119.31,26.08],[119.31,26.10],[119.30,26.10],[119.30,26.08]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"350111001001001\",\"community\":\"350111001001\","
    "\"street\":\"350111001\",\"district\":\"350111\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[119.36,26.08],[119.37,26.08],[119.37,26.09],[119.36,26.09],[119.36,26.08]]]}}]}";

//  Aborts unless loc's codes are consistent: each a prefix of the next finer.

static void
s_check_codes (const yx_geo_loc_t *loc)
{
    if (strncmp (loc->community, loc->grid, strlen (loc->community))
    ||  strncmp (loc->street, loc->community, *loc->community? strlen (loc->street): 0)
    ||  strncmp (loc->district, loc->street, strlen (loc->district))
    ||  (loc->how == YX_GEO_OUTSIDE && (*loc->grid || *loc->street || *loc->district))
    ||  (loc->how != YX_GEO_OUTSIDE && strlen (loc->district) != 6))
        abort ();
}

//  Queries a loaded object at one point and checks the invariants.

static void
s_probe (const yx_geo_t *geo, double lat, double lon)
{
    yx_geo_loc_t loc, byg, back;
    if (yx_geo_locate (geo, lat, lon, &loc) != 0)
        return;
    s_check_codes (&loc);
    if (!*loc.grid)
        return;
    double rlat, rlon;
    if (yx_geo_locate_grid (geo, loc.grid, &byg, &rlat, &rlon) != 0
    ||  strcmp (byg.street, loc.street) || strcmp (byg.community, loc.community))
        abort ();
    if (yx_geo_locate (geo, rlat, rlon, &back) != 0
    ||  back.how != YX_GEO_IN_GRID || strcmp (back.grid, loc.grid))
        abort ();
}

//  Checks a load's outcome and, if it loaded, probes it.

static void
s_exercise (yx_geo_t *geo, const char *err)
{
    if (!geo) {
        if (!*err)
            abort ();
        return;
    }
    if (yx_geo_grid_count (geo) < 1)
        abort ();
    for (int i = 0; i <= 16; i++)
        for (int j = 0; j <= 16; j++)
            s_probe (geo, 26.06 + i * 0.0035, 119.28 + j * 0.007);
    static const double far [][2] = { { 0, 0 }, { 90, 180 }, { -90, -180 }, { 26.08, 119.30 },
                                      { 26.1, 119.32 }, { 45, 100 } };
    for (size_t i = 0; i < sizeof far / sizeof far [0]; i++)
        s_probe (geo, far [i][0], far [i][1]);
    yx_geo_loc_t loc;
    yx_geo_locate_address (geo, "福州市鼓楼区", &loc, NULL, NULL);
    yx_geo_destroy (&geo);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    const uint8_t *nul = memchr (data, 0, size);
    char err [512] = "";
    if (nul) {
        size_t slen = (size_t) (nul - data);
        s_exercise (yx_geo_new_from_memory (text, slen, text + slen + 1, size - slen - 1,
                                            err, sizeof err), err);
        return 0;
    }
    s_exercise (yx_geo_new_from_memory (text, size, s_grids, strlen (s_grids), err, sizeof err), err);
    err [0] = 0;
    s_exercise (yx_geo_new_from_memory (s_streets, strlen (s_streets), text, size, err, sizeof err), err);
    return 0;
}
