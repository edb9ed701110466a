/*  test_geo.c — unit tests of the location module (services/common/geo.c).

    A synthetic layout near Fuzhou (all squares 0.01° ≈ 1 km):

      street A 350102001 [119.30, 119.32] x [26.08, 26.10], four grids
          SW 350102001001001 (with a hole [119.303, 119.307] x [26.083, 26.087])
          SE 350102001001002, NW 350102001002001, NE 350102001002002,
          island 350102001003001 filling the hole exactly;
      street B 350102002 [119.32, 119.34] x [26.08, 26.10]
          350102002001001 MultiPolygon: [119.32, 119.33] x [26.08, 26.09]
                          and the corner [119.335, 119.34] x [26.095, 26.10],
          350102002001002 [119.32, 119.33] x [26.09, 26.10],
          350102002001003 the L-shape left over in the north-east,
          and [119.33, 119.34] x [26.08, 26.09] in no grid;
      street D 350102003 [119.30, 119.32] x [26.1005, 26.12] (a 55 m sliver
          north of A), one grid 350102003001001;
      street C 350111001 (district 350111) MultiPolygon [119.36, 119.37] and
          [119.38, 119.39] x [26.08, 26.09], grids 350111001001001 / 002.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/common/geo.h"

#define RECT(x0, y0, x1, y1) \
    "[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]"
#define AND ","
#define POLYGON(rings) "{\"type\":\"Polygon\",\"coordinates\":[" rings "]}"
#define MULTI(polygons) "{\"type\":\"MultiPolygon\",\"coordinates\":[" polygons "]}"
#define STREET(code, district, geometry) \
    "{\"type\":\"Feature\",\"properties\":{\"adcode\":" #code ",\"district_adcode\":" #district "}," \
    "\"geometry\":" geometry "}"
#define COLLECTION(features) "{\"type\":\"FeatureCollection\",\"features\":[" features "]}"
#define GRID(code, comm, street, district, geometry) \
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"" #code "\",\"community\":\"" #comm "\"," \
    "\"street\":\"" #street "\",\"district\":\"" #district "\"},\"geometry\":" geometry "}"

static const char *s_streets = COLLECTION (
    STREET (350102001, 350102, POLYGON (RECT (119.30, 26.08, 119.32, 26.10))) AND
    STREET (350102002, 350102, POLYGON (RECT (119.32, 26.08, 119.34, 26.10))) AND
    STREET (350102003, 350102, POLYGON (RECT (119.30, 26.1005, 119.32, 26.12))) AND
    STREET (350111001, 350111, MULTI ("[" RECT (119.36, 26.08, 119.37, 26.09) "]" AND
                                      "[" RECT (119.38, 26.08, 119.39, 26.09) "]")));

static const char *s_grids = COLLECTION (
    GRID (350102001001001, 350102001001, 350102001, 350102,
          POLYGON (RECT (119.30, 26.08, 119.31, 26.09) AND RECT (119.303, 26.083, 119.307, 26.087))) AND
    GRID (350102001001002, 350102001001, 350102001, 350102, POLYGON (RECT (119.31, 26.08, 119.32, 26.09))) AND
    GRID (350102001002001, 350102001002, 350102001, 350102, POLYGON (RECT (119.30, 26.09, 119.31, 26.10))) AND
    GRID (350102001002002, 350102001002, 350102001, 350102, POLYGON (RECT (119.31, 26.09, 119.32, 26.10))) AND
    GRID (350102001003001, 350102001003, 350102001, 350102, POLYGON (RECT (119.303, 26.083, 119.307, 26.087))) AND
    GRID (350102002001001, 350102002001, 350102002, 350102,
          MULTI ("[" RECT (119.32, 26.08, 119.33, 26.09) "]" AND "[" RECT (119.335, 26.095, 119.34, 26.10) "]")) AND
    GRID (350102002001002, 350102002001, 350102002, 350102, POLYGON (RECT (119.32, 26.09, 119.33, 26.10))) AND
    GRID (350102002001003, 350102002001, 350102002, 350102,
          POLYGON ("[[119.33,26.09],[119.34,26.09],[119.34,26.095],[119.335,26.095],"
                   "[119.335,26.10],[119.33,26.10],[119.33,26.09]]")) AND
    GRID (350102003001001, 350102003001, 350102003, 350102, POLYGON (RECT (119.30, 26.1005, 119.32, 26.12))) AND
    GRID (350111001001001, 350111001001, 350111001, 350111, POLYGON (RECT (119.36, 26.08, 119.37, 26.09))) AND
    GRID (350111001001002, 350111001001, 350111001, 350111, POLYGON (RECT (119.38, 26.08, 119.39, 26.09))));

static yx_geo_t *s_geo;

static int
s_setup (void **state)
{
    (void) state;
    char err [256] = "";
    s_geo = yx_geo_new_from_memory (s_streets, strlen (s_streets), s_grids, strlen (s_grids),
                                    err, sizeof err);
    if (!s_geo)
        fprintf (stderr, "setup: %s\n", err);
    return s_geo? 0: -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    yx_geo_destroy (&s_geo);
    return s_geo == NULL? 0: -1;
}

//  Asserts where a point lands.

static void
s_expect (double lat, double lon, yx_geo_how_t how, const char *grid, const char *street)
{
    yx_geo_loc_t loc;
    assert_int_equal (yx_geo_locate (s_geo, lat, lon, &loc), 0);
    if (loc.how != how || strcmp (loc.grid, grid) || strcmp (loc.street, street))
        fail_msg ("(%.6f, %.6f): got how %d grid \"%s\" street \"%s\", want how %d grid \"%s\" street \"%s\"",
                  lat, lon, loc.how, loc.grid, loc.street, how, grid, street);
    //  Codes below the grid are its prefixes (or "" together with it)
    assert_int_equal (strncmp (loc.community, grid, strlen (loc.community)), 0);
    assert_int_equal (strncmp (loc.district, loc.street, 6), 0);
}

static void
test_grid_count (void **state)
{
    (void) state;
    assert_int_equal (yx_geo_grid_count (s_geo), 11);
}

static void
test_inside_grids (void **state)
{
    (void) state;
    s_expect (26.081, 119.301, YX_GEO_IN_GRID, "350102001001001", "350102001");
    s_expect (26.085, 119.315, YX_GEO_IN_GRID, "350102001001002", "350102001");
    s_expect (26.095, 119.305, YX_GEO_IN_GRID, "350102001002001", "350102001");
    s_expect (26.099, 119.319, YX_GEO_IN_GRID, "350102001002002", "350102001");
    s_expect (26.0925, 119.3375, YX_GEO_IN_GRID, "350102002001003", "350102002");
    s_expect (26.110, 119.310, YX_GEO_IN_GRID, "350102003001001", "350102003");
    yx_geo_loc_t loc;
    assert_int_equal (yx_geo_locate (s_geo, 26.085, 119.385, &loc), 0);
    assert_string_equal (loc.grid, "350111001001002");
    assert_string_equal (loc.community, "350111001001");
    assert_string_equal (loc.street, "350111001");
    assert_string_equal (loc.district, "350111");
}

static void
test_random_points_match_layout (void **state)
{
    (void) state;
    srand (7);
    for (int i = 0; i < 20000; i++) {
        double lon = 119.30 + 0.02 * rand () / ((double) RAND_MAX + 1);
        double lat = 26.08 + 0.02 * rand () / ((double) RAND_MAX + 1);
        const char *want;
        if (lon > 119.303 && lon < 119.307 && lat > 26.083 && lat < 26.087)
            want = "350102001003001";
        else
        if (lat < 26.09)
            want = lon < 119.31? "350102001001001": "350102001001002";
        else
            want = lon < 119.31? "350102001002001": "350102001002002";
        s_expect (lat, lon, YX_GEO_IN_GRID, want, "350102001");
    }
}

static void
test_shared_edges_resolve_to_one_grid (void **state)
{
    (void) state;
    //  The rule: a point on an edge shared by two grids belongs to the one
    //  east of it (north of it for an east-west edge)
    s_expect (26.085, 119.31, YX_GEO_IN_GRID, "350102001001002", "350102001");
    s_expect (26.09, 119.305, YX_GEO_IN_GRID, "350102001002001", "350102001");
    s_expect (26.09, 119.31, YX_GEO_IN_GRID, "350102001002002", "350102001");
    //  Across the street boundary A | B
    s_expect (26.085, 119.32, YX_GEO_IN_GRID, "350102002001001", "350102002");
    s_expect (26.08, 119.325, YX_GEO_IN_GRID, "350102002001001", "350102002");
    //  A city-edge vertex and edge are still in a grid
    s_expect (26.08, 119.30, YX_GEO_IN_GRID, "350102001001001", "350102001");
    s_expect (26.085, 119.30, YX_GEO_IN_GRID, "350102001001001", "350102001");
    //  Every point along the shared edges lands in exactly one of the grids
    for (int i = 0; i <= 1000; i++) {
        yx_geo_loc_t loc;
        double t = 26.08 + 0.02 * i / 1000;
        assert_int_equal (yx_geo_locate (s_geo, t, 119.31, &loc), 0);
        assert_int_equal (loc.how, YX_GEO_IN_GRID);
        assert_string_equal (loc.grid, t < 26.09? "350102001001002": "350102001002002");
    }
}

//  Parity of the ray cast from (lon, lat) towards +lon over one closed ring,
//  by the documented rule: each edge taken with y1 < y2, half-open in lat.

static int
s_ring_parity (double (*ring) [2], int n, double lon, double lat)
{
    int parity = 0;
    for (int i = 0; i + 1 < n; i++) {
        double *p = ring [i], *q = ring [i + 1];
        if (p [1] > q [1]) {
            double *t = p; p = q; q = t;
        }
        if (p [1] <= lat && lat < q [1] && lon < p [0] + (lat - p [1]) * ((q [0] - p [0]) / (q [1] - p [1])))
            parity ^= 1;
    }
    return parity;
}

static void
test_random_polygons_match_ray_cast (void **state)
{
    (void) state;
    //  Self-intersecting rings on a coarse lattice, so that vertices, edges
    //  and query points coincide often; the index must agree exactly
    const char *streets = COLLECTION (STREET (350102001, 350102, POLYGON (RECT (119.0, 26.0, 119.5, 26.5))));
    srand (3);
    for (int round = 0; round < 40; round++) {
        double rings [3][14][2];
        int nrings = 1 + rand () % 3, len [3];
        char grids [8192], *at = grids;
        at += sprintf (at, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
                       "{\"code\":\"350102001001001\",\"community\":\"350102001001\",\"street\":\"350102001\","
                       "\"district\":\"350102\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[");
        for (int r = 0; r < nrings; r++) {
            len [r] = 4 + rand () % 10;
            for (int i = 0; i < len [r]; i++) {
                rings [r][i][0] = i + 1 < len [r]? 119.2 + (rand () % 21) * 0.005: rings [r][0][0];
                rings [r][i][1] = i + 1 < len [r]? 26.1 + (rand () % 21) * 0.005: rings [r][0][1];
                at += sprintf (at, "%s[%.17g,%.17g]", i? ",": r? ",[": "[", rings [r][i][0], rings [r][i][1]);
            }
            at += sprintf (at, "]");
        }
        sprintf (at, "]}}]}");
        char err [512] = "";
        yx_geo_t *geo = yx_geo_new_from_memory (streets, strlen (streets), grids, strlen (grids), err, sizeof err);
        if (!geo) {
            assert_non_null (strstr (err, "has no area"));  //  all-collinear rings happen
            continue;
        }
        for (int i = 0; i < 3000; i++) {
            double lon = 119.19 + (rand () % 49) * 0.0025, lat = 26.09 + (rand () % 49) * 0.0025;
            if (i % 2) {
                lon = 119.19 + 0.12 * rand () / RAND_MAX;
                lat = 26.09 + 0.12 * rand () / RAND_MAX;
            }
            int parity = 0;
            for (int r = 0; r < nrings; r++)
                parity ^= s_ring_parity (rings [r], len [r], lon, lat);
            yx_geo_loc_t loc;
            assert_int_equal (yx_geo_locate (geo, lat, lon, &loc), 0);
            if (parity != (loc.how == YX_GEO_IN_GRID))
                fail_msg ("round %d (%.17g, %.17g): ray cast %d, index how %d", round, lat, lon, parity, loc.how);
        }
        yx_geo_destroy (&geo);
    }
}

static void
test_hole_and_island (void **state)
{
    (void) state;
    s_expect (26.085, 119.305, YX_GEO_IN_GRID, "350102001003001", "350102001");
    s_expect (26.0829, 119.305, YX_GEO_IN_GRID, "350102001001001", "350102001");
    s_expect (26.085, 119.3071, YX_GEO_IN_GRID, "350102001001001", "350102001");
    //  On the hole's west edge: east of it is the island
    s_expect (26.085, 119.303, YX_GEO_IN_GRID, "350102001003001", "350102001");
}

static void
test_multipolygon (void **state)
{
    (void) state;
    s_expect (26.085, 119.325, YX_GEO_IN_GRID, "350102002001001", "350102002");
    s_expect (26.0975, 119.3375, YX_GEO_IN_GRID, "350102002001001", "350102002");
    //  Between the two parts of street C: nearest street C
    s_expect (26.085, 119.374, YX_GEO_NEAREST_STREET, "350111001001001", "350111001");
}

static void
test_uncovered_part_of_street (void **state)
{
    (void) state;
    //  In street B but in no grid: street B, the grid whose outline is nearest
    s_expect (26.085, 119.3305, YX_GEO_NEAREST_STREET, "350102002001001", "350102002");
    s_expect (26.0895, 119.338, YX_GEO_NEAREST_STREET, "350102002001003", "350102002");
    //  On B's outer east edge (east of it is outside): distance 0 to B and P2
    s_expect (26.097, 119.34, YX_GEO_NEAREST_STREET, "350102002001001", "350102002");
}

static void
test_sliver_between_streets (void **state)
{
    (void) state;
    //  22 m north of A, 33 m south of D
    s_expect (26.1002, 119.305, YX_GEO_NEAREST_STREET, "350102001002001", "350102001");
    s_expect (26.1004, 119.315, YX_GEO_NEAREST_STREET, "350102003001001", "350102003");
    //  500 m east of B, whose edge there borders no grid: nearest grid of B
    s_expect (26.085, 119.345, YX_GEO_NEAREST_STREET, "350102002001003", "350102002");
    //  Just east of B's corner part: that grid
    s_expect (26.097, 119.3405, YX_GEO_NEAREST_STREET, "350102002001001", "350102002");
    //  500 m west of C: street C in district 350111
    yx_geo_loc_t loc;
    assert_int_equal (yx_geo_locate (s_geo, 26.085, 119.355, &loc), 0);
    assert_int_equal (loc.how, YX_GEO_NEAREST_STREET);
    assert_string_equal (loc.grid, "350111001001001");
    assert_string_equal (loc.community, "350111001001");
    assert_string_equal (loc.street, "350111001");
    assert_string_equal (loc.district, "350111");
}

static void
test_far_points_are_outside (void **state)
{
    (void) state;
    s_expect (26.085, 119.40, YX_GEO_NEAREST_STREET, "350111001001002", "350111001");  //  1 km
    s_expect (26.085, 119.42, YX_GEO_OUTSIDE, "", "");      //  3 km east of C
    s_expect (26.06, 119.31, YX_GEO_OUTSIDE, "", "");       //  2.2 km south of A
    s_expect (26.5, 119.8, YX_GEO_OUTSIDE, "", "");
    s_expect (-33.86, 151.21, YX_GEO_OUTSIDE, "", "");
    yx_geo_loc_t loc;
    assert_int_equal (yx_geo_locate (s_geo, 26.5, 119.8, &loc), 0);
    assert_string_equal (loc.district, "");
    assert_string_equal (loc.community, "");
}

static void
test_invalid_coordinates (void **state)
{
    (void) state;
    const double bad [][2] = { { NAN, 119.3 }, { 26.08, NAN }, { 91, 119.3 }, { -90.5, 119.3 },
                               { 26.08, 180.01 }, { 26.08, -181 }, { INFINITY, 0 }, { 0, -INFINITY } };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        yx_geo_loc_t loc = { .how = YX_GEO_IN_GRID, .grid = "x" };
        assert_int_equal (yx_geo_locate (s_geo, bad [i][0], bad [i][1], &loc), -1);
        assert_int_equal (loc.how, YX_GEO_OUTSIDE);
        assert_string_equal (loc.grid, "");
    }
    yx_geo_loc_t loc;
    assert_int_equal (yx_geo_locate (s_geo, 90, 180, &loc), 0);
    assert_int_equal (yx_geo_locate (s_geo, -90, -180, &loc), 0);
}

static void
test_locate_grid (void **state)
{
    (void) state;
    static const char *codes [] = {
        "350102001001001", "350102001001002", "350102001002001", "350102001002002", "350102001003001",
        "350102002001001", "350102002001002", "350102002001003", "350102003001001",
        "350111001001001", "350111001001002" };
    for (size_t i = 0; i < sizeof codes / sizeof codes [0]; i++) {
        yx_geo_loc_t loc, back;
        double lat = 0, lon = 0;
        assert_int_equal (yx_geo_locate_grid (s_geo, codes [i], &loc, &lat, &lon), 0);
        assert_string_equal (loc.grid, codes [i]);
        assert_int_equal (loc.how, YX_GEO_IN_GRID);
        assert_int_equal (strncmp (loc.community, codes [i], 12), 0);
        assert_int_equal (strncmp (loc.street, codes [i], 9), 0);
        assert_int_equal (strncmp (loc.district, codes [i], 6), 0);
        //  The representative point lies in the grid itself
        assert_int_equal (yx_geo_locate (s_geo, lat, lon, &back), 0);
        assert_int_equal (back.how, YX_GEO_IN_GRID);
        assert_string_equal (back.grid, codes [i]);
    }
    yx_geo_loc_t loc;
    double lat = 1, lon = 2;
    assert_int_equal (yx_geo_locate_grid (s_geo, "350102001009009", &loc, &lat, &lon), -1);
    assert_int_equal (loc.how, YX_GEO_OUTSIDE);
    assert_true (lat == 1 && lon == 2);
    assert_int_equal (yx_geo_locate_grid (s_geo, "", &loc, NULL, NULL), -1);
    assert_int_equal (yx_geo_locate_grid (s_geo, NULL, &loc, NULL, NULL), -1);
    assert_int_equal (yx_geo_locate_grid (s_geo, "350102002001002", &loc, NULL, NULL), 0);
}

//  Writes text to a fresh temporary file; returns its path (static buffer).

static const char *
s_temp_file (const char *text)
{
    static char path [64];
    snprintf (path, sizeof path, "/tmp/test_geo_XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    return path;
}

static void
test_gazetteer_longest_match (void **state)
{
    (void) state;
    const char *path = s_temp_file ("name\tgrid\n"
                                    "鼓楼\t350102001001001\n"
                                    "五一广场\t350102001001002\n"
                                    "鼓楼区五一广场\t350102002001001\n"
                                    "五一\t350102001002002\r\n"
                                    "\n"
                                    "茶园\t350111001001001\n");
    char err [256] = "";
    assert_int_equal (yx_geo_load_gazetteer (s_geo, path, err, sizeof err), 0);
    unlink (path);
    yx_geo_loc_t loc, back;
    double lat, lon;
    assert_int_equal (yx_geo_locate_address (s_geo, "福州市鼓楼区五一广场东侧", &loc, &lat, &lon), 0);
    assert_string_equal (loc.grid, "350102002001001");
    assert_string_equal (loc.street, "350102002");
    assert_int_equal (yx_geo_locate (s_geo, lat, lon, &back), 0);
    assert_string_equal (back.grid, "350102002001001");
    assert_int_equal (yx_geo_locate_address (s_geo, "五一广场北门", &loc, NULL, NULL), 0);
    assert_string_equal (loc.grid, "350102001001002");
    assert_int_equal (yx_geo_locate_address (s_geo, "晋安区茶园街道", &loc, NULL, NULL), 0);
    assert_string_equal (loc.district, "350111");
    assert_int_equal (yx_geo_locate_address (s_geo, "上海市浦东新区", &loc, NULL, NULL), -1);
    assert_int_equal (loc.how, YX_GEO_OUTSIDE);
    assert_int_equal (yx_geo_locate_address (s_geo, NULL, &loc, NULL, NULL), -1);
}

static void
test_gazetteer_rejects_bad_files (void **state)
{
    (void) state;
    static const struct { const char *text; const char *want; } cases [] = {
        { "", "empty file" },
        { "name,grid\n", ":1: header" },
        { "name\tgrid\n鼓楼\t350102001001999\n", ":2: unknown grid" },
        { "name\tgrid\n鼓楼 350102001001001\n", ":2: expected" },
        { "name\tgrid\n鼓楼\t350102001001001\tx\n", ":2: expected" },
        { "name\tgrid\n\t350102001001001\n", ":2: empty name" },
        { "name\tgrid\n鼓楼\t350102001001001\n台江\t350102001001002\n鼓楼\t350102001001002\n",
          ":4: name \"鼓楼\" already on line 2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const char *path = s_temp_file (cases [i].text);
        char err [256] = "";
        assert_int_equal (yx_geo_load_gazetteer (s_geo, path, err, sizeof err), -1);
        unlink (path);
        if (!strstr (err, cases [i].want) || strncmp (err, path, strlen (path)))
            fail_msg ("case %zu: message \"%s\" lacks \"%s\"", i, err, cases [i].want);
        yx_geo_loc_t loc;
        assert_int_equal (yx_geo_locate_address (s_geo, "鼓楼", &loc, NULL, NULL), -1);
    }
    char err [256] = "";
    assert_int_equal (yx_geo_load_gazetteer (s_geo, "/nonexistent/gaz.tsv", err, sizeof err), -1);
    assert_non_null (strstr (err, "/nonexistent/gaz.tsv"));
}

static void
test_gcj02_round_trip_fuzhou (void **state)
{
    (void) state;
    double glat, glon, wlat, wlon;
    yx_geo_wgs84_to_gcj02 (26.08, 119.30, &glat, &glon);
    //  The offset in Fuzhou is a few hundred metres
    double offset = yx_geo_distance_m (26.08, 119.30, glat, glon);
    assert_true (offset > 200 && offset < 1000);
    yx_geo_gcj02_to_wgs84 (glat, glon, &wlat, &wlon);
    assert_true (yx_geo_distance_m (26.08, 119.30, wlat, wlon) < 0.5);
    //  Across the whole city box
    for (double lat = 26.0; lat <= 26.45; lat += 0.05)
        for (double lon = 119.15; lon <= 119.45; lon += 0.05) {
            yx_geo_wgs84_to_gcj02 (lat, lon, &glat, &glon);
            yx_geo_gcj02_to_wgs84 (glat, glon, &wlat, &wlon);
            assert_true (yx_geo_distance_m (lat, lon, wlat, wlon) < 0.01);
        }
}

static void
test_gcj02_published_pairs (void **state)
{
    (void) state;
    //  WGS84 → GCJ-02 pairs published with googollee/eviltransform (Shanghai,
    //  Shenzhen, Beijing) and wandergis/coordtransform (Beijing)
    static const double pairs [][4] = {
        { 31.1774276, 121.5272106, 31.17530398364597, 121.531541859215 },
        { 22.543847, 113.912316, 22.540796131694766, 113.9171764808363 },
        { 39.911954, 116.377817, 39.91334545536069, 116.38404722455657 },
        { 39.915, 116.404, 39.91640428150164, 116.41024449916938 },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs [0]; i++) {
        double glat, glon, wlat, wlon;
        yx_geo_wgs84_to_gcj02 (pairs [i][0], pairs [i][1], &glat, &glon);
        assert_true (yx_geo_distance_m (glat, glon, pairs [i][2], pairs [i][3]) < 0.01);
        yx_geo_gcj02_to_wgs84 (pairs [i][2], pairs [i][3], &wlat, &wlon);
        assert_true (yx_geo_distance_m (wlat, wlon, pairs [i][0], pairs [i][1]) < 0.5);
    }
    //  Outside China both directions are the identity
    double lat, lon;
    yx_geo_wgs84_to_gcj02 (-33.86, 151.21, &lat, &lon);
    assert_true (lat == -33.86 && lon == 151.21);
    yx_geo_gcj02_to_wgs84 (48.85, 2.35, &lat, &lon);
    assert_true (lat == 48.85 && lon == 2.35);
}

static void
test_distance (void **state)
{
    (void) state;
    assert_true (yx_geo_distance_m (26.08, 119.30, 26.08, 119.30) == 0);
    assert_true (fabs (yx_geo_distance_m (0, 0, 1, 0) - 111195.08) < 0.1);
    double bj_sh = yx_geo_distance_m (39.9042, 116.4074, 31.2304, 121.4737);
    assert_true (bj_sh > 1066000 && bj_sh < 1069000);
    assert_true (fabs (yx_geo_distance_m (0, 0, 0, 180) - M_PI * 6371008.8) < 1);
    assert_true (fabs (yx_geo_distance_m (26.1, 119.3, 26.08, 119.31)
                     - yx_geo_distance_m (26.08, 119.31, 26.1, 119.3)) < 1e-9);
}

#define S1 COLLECTION (STREET (350102001, 350102, POLYGON (RECT (119.30, 26.08, 119.32, 26.10))))
#define G1 GRID (350102001001001, 350102001001, 350102001, 350102, POLYGON (RECT (119.30, 26.08, 119.31, 26.09)))
#define G1_WITH(geometry) GRID (350102001001001, 350102001001, 350102001, 350102, geometry)
#define PROPS "\"properties\":{\"code\":\"350102001001002\",\"community\":\"350102001001\"," \
              "\"street\":\"350102001\",\"district\":\"350102\"}"

static void
test_malformed_geojson_rejected (void **state)
{
    (void) state;
    static const struct { const char *streets, *grids, *want; } cases [] = {
        { S1, "not json", "grids:1:" },
        { S1, "{\"type\":\"FeatureCollection\",\"features\":[", "grids:1:" },
        { S1, "{\"type\":\"FeatureCollection\",\"type\":\"x\",\"features\":[]}", "duplicate" },
        { S1, "[]", "grids: not a GeoJSON FeatureCollection" },
        { S1, "{\"type\":\"FeatureCollection\"}", "grids: FeatureCollection has no features array" },
        { S1, COLLECTION (""), "grids: FeatureCollection has no features" },
        { S1, COLLECTION ("1"), "grids: feature 0: not an object" },
        { S1, COLLECTION ("{\"type\":\"Feat\"}"), "grids: feature 0: type is not \"Feature\"" },
        { S1, COLLECTION (G1 AND "{\"type\":\"Feature\"," PROPS "}"), "grids: feature 1: geometry is missing" },
        { S1, COLLECTION (G1 AND "{\"type\":\"Feature\"," PROPS ",\"geometry\":null}"), "feature 1: geometry is missing" },
        { S1, COLLECTION ("{\"type\":\"Feature\",\"geometry\":" POLYGON (RECT (119.3, 26.08, 119.31, 26.09)) "}"),
          "feature 0: properties is missing" },
        { S1, COLLECTION (G1_WITH ("{\"type\":\"Point\",\"coordinates\":[119.3,26.08]}")),
          "feature 0: geometry type \"Point\" is not Polygon or MultiPolygon" },
        { S1, COLLECTION (G1_WITH ("{\"type\":\"Polygon\"}")), "geometry has no coordinates array" },
        { S1, COLLECTION (G1_WITH ("{\"coordinates\":[]}")), "geometry has no type" },
        { S1, COLLECTION (G1_WITH (POLYGON (""))), "polygon 0 has no rings" },
        { S1, COLLECTION (G1_WITH (MULTI (""))), "MultiPolygon has no polygons" },
        { S1, COLLECTION (G1_WITH (MULTI ("[" RECT (119.3, 26.08, 119.31, 26.09) "]" AND "5"))),
          "polygon 1 is not an array of rings" },
        { S1, COLLECTION (G1_WITH (POLYGON ("7"))), "polygon 0 ring 0 is not an array" },
        { S1, COLLECTION (G1_WITH (POLYGON ("[[119.30,26.08],[119.31,26.08],[119.30,26.08]]"))),
          "ring 0 has 3 positions" },
        { S1, COLLECTION (G1_WITH (POLYGON ("[[119.30,26.08],[119.31,26.08],[119.31,26.09],[119.30,26.09]]"))),
          "ring 0 is not closed" },
        { S1, COLLECTION (G1_WITH (POLYGON ("[[119.30,26.08],[\"119.31\",26.08],[119.31,26.09],[119.30,26.08]]"))),
          "ring 0 position 1 is not [lon, lat]" },
        { S1, COLLECTION (G1_WITH (POLYGON ("[[119.30,26.08],[119.31],[119.31,26.09],[119.30,26.08]]"))),
          "position 1 is not [lon, lat]" },
        { S1, COLLECTION (G1_WITH (POLYGON (RECT (119.30, 26.08, 200, 26.09)))),
          "position 1: longitude 200 out of range" },
        { S1, COLLECTION (G1_WITH (POLYGON (RECT (119.30, -95, 119.31, 26.09)))),
          "position 0: latitude -95 out of range" },
        { S1, COLLECTION (GRID (35010200100100, 350102001001, 350102001, 350102, POLYGON (RECT (1, 2, 3, 4)))),
          "feature 0: properties.code \"35010200100100\" is not a 15-digit code" },
        { S1, COLLECTION (GRID (3501020010010x1, 350102001001, 350102001, 350102, POLYGON (RECT (1, 2, 3, 4)))),
          "properties.code \"3501020010010x1\" is not a 15-digit code" },
        { S1, COLLECTION ("{\"type\":\"Feature\",\"properties\":{\"code\":{}}}"),
          "properties.code is not a string or integer" },
        { S1, COLLECTION ("{\"type\":\"Feature\",\"properties\":{\"code\":\"350102001001001\"}}"),
          "properties.community is missing" },
        { S1, COLLECTION (GRID (350102001001001, 350102001002, 350102001, 350102, POLYGON (RECT (1, 2, 3, 4)))),
          "properties.community \"350102001002\" is not the start of properties.code \"350102001001001\"" },
        { S1, COLLECTION (GRID (350102001001001, 350102001001, 350102001, 350111, POLYGON (RECT (1, 2, 3, 4)))),
          "properties.district \"350111\" is not the start of properties.street" },
        { S1, COLLECTION (G1 AND G1), "grids: feature 1: grid 350102001001001 is also feature 0" },
        { S1, COLLECTION (GRID (350102009001001, 350102009001, 350102009, 350102, POLYGON (RECT (1, 2, 3, 4)))),
          "grids: feature 0: street 350102009 is not in streets" },
        { S1, COLLECTION (G1_WITH (POLYGON ("[[119.30,26.08],[119.31,26.08],[119.305,26.08],[119.30,26.08]]"))),
          "grids: feature 0: grid 350102001001001 has no area" },
        { S1, COLLECTION (G1 AND GRID (350102001001002, 350102001001, 350102001, 350102,
                                    POLYGON (RECT (119.302, 26.082, 119.308, 26.088)))),
          "grids: feature 1: grid 350102001001002 overlaps feature 0 (grid 350102001001001)" },
        { "{\"type\":", COLLECTION (G1), "streets:1:" },
        { COLLECTION (""), COLLECTION (G1), "streets: FeatureCollection has no features" },
        { COLLECTION ("{\"type\":\"Feature\",\"properties\":{\"adcode\":\"35010200x\",\"district_adcode\":350102}}"),
          COLLECTION (G1), "streets: feature 0: properties.adcode \"35010200x\" is not a 9-digit code" },
        { COLLECTION ("{\"type\":\"Feature\",\"properties\":{\"adcode\":350102001}}"), COLLECTION (G1),
          "streets: feature 0: properties.district_adcode is missing" },
        { COLLECTION (STREET (350102001, 350111, POLYGON (RECT (119.30, 26.08, 119.32, 26.10)))), COLLECTION (G1),
          "properties.district_adcode \"350111\" is not the start of properties.adcode \"350102001\"" },
        { COLLECTION (STREET (350102001, 350102, POLYGON (RECT (119.30, 26.08, 119.32, 26.10))) AND
                      STREET (350102001, 350102, POLYGON (RECT (119.30, 26.08, 119.32, 26.10)))),
          COLLECTION (G1), "streets: feature 1: street 350102001 is also feature 0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char err [512] = "";
        yx_geo_t *geo = yx_geo_new_from_memory (cases [i].streets, strlen (cases [i].streets),
                                                cases [i].grids, strlen (cases [i].grids), err, sizeof err);
        if (geo || !strstr (err, cases [i].want))
            fail_msg ("case %zu: got %s \"%s\", want \"%s\"", i, geo? "an object": "NULL", err, cases [i].want);
    }
    //  Every truncation of a valid document is rejected with a message
    for (size_t len = 0; len < strlen (s_grids); len += 13) {
        char err [512] = "";
        assert_null (yx_geo_new_from_memory (s_streets, strlen (s_streets), s_grids, len, err, sizeof err));
        assert_int_equal (strncmp (err, "grids:", 6), 0);
    }
    //  A minimal valid pair, with integer codes and altitudes, is accepted
    const char *grids = COLLECTION ("{\"type\":\"Feature\",\"properties\":{\"code\":350102001001001,"
        "\"community\":350102001001,\"street\":350102001,\"district\":350102},\"geometry\":"
        POLYGON ("[[119.30,26.08,5],[119.31,26.08,5],[119.31,26.09,5],[119.30,26.09,5],[119.30,26.08,5]]") "}");
    char err [512] = "";
    yx_geo_t *geo = yx_geo_new_from_memory (S1, strlen (S1), grids, strlen (grids), err, sizeof err);
    assert_non_null (geo);
    assert_int_equal (yx_geo_grid_count (geo), 1);
    yx_geo_destroy (&geo);
    assert_null (geo);
    yx_geo_destroy (&geo);
    yx_geo_destroy (NULL);
}

static void
test_load_from_files (void **state)
{
    (void) state;
    char streets [64], grids [64], err [512] = "";
    snprintf (streets, sizeof streets, "%s", s_temp_file (s_streets));
    snprintf (grids, sizeof grids, "%s", s_temp_file (s_grids));
    yx_geo_t *geo = yx_geo_new (streets, grids, err, sizeof err);
    assert_non_null (geo);
    assert_int_equal (yx_geo_grid_count (geo), 11);
    yx_geo_destroy (&geo);
    assert_null (yx_geo_new (streets, "/nonexistent/grids.geojson", err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/grids.geojson: "));
    assert_null (yx_geo_new (grids, streets, err, sizeof err));
    assert_int_equal (strncmp (err, grids, strlen (grids)), 0);
    assert_non_null (strstr (err, ": feature 0: properties.adcode is missing"));
    unlink (streets);
    unlink (grids);
}

//  Vertex i of a GeoJSON ring.

static void
s_vertex (json_t *ring, size_t i, double *x, double *y)
{
    *x = json_number_value (json_array_get (json_array_get (ring, i), 0));
    *y = json_number_value (json_array_get (json_array_get (ring, i), 1));
}

//  Polygon p of a Polygon or MultiPolygon geometry; NULL past the last.

static json_t *
s_polygon (json_t *geometry, size_t p)
{
    json_t *coords = json_object_get (geometry, "coordinates");
    if (strcmp (json_string_value (json_object_get (geometry, "type")), "MultiPolygon") == 0)
        return json_array_get (coords, p);
    return p == 0? coords: NULL;
}

//  Even-odd test of (lon, lat) against a GeoJSON geometry, independent of
//  the module's index.

static int
s_geometry_contains (json_t *geometry, double lon, double lat)
{
    int inside = 0;
    json_t *rings;
    for (size_t p = 0; (rings = s_polygon (geometry, p)); p++)
        for (size_t r = 0; r < json_array_size (rings); r++) {
            json_t *ring = json_array_get (rings, r);
            for (size_t i = 0; i + 1 < json_array_size (ring); i++) {
                double x1, y1, x2, y2;
                s_vertex (ring, i, &x1, &y1);
                s_vertex (ring, i + 1, &x2, &y2);
                if ((y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1))
                    inside ^= 1;
            }
        }
    return inside;
}

//  Code property key of a feature (string or integer) into code.

static void
s_code_of (json_t *feature, const char *key, char *code, size_t size)
{
    json_t *value = json_object_get (json_object_get (feature, "properties"), key);
    if (json_is_integer (value))
        snprintf (code, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
        snprintf (code, size, "%s", json_string_value (value));
}

//  The area-weighted centre of each street's largest outer ring, where its
//  own outline contains it, must resolve to that street. Returns how many
//  streets were checked.

static int
s_check_street_centres (yx_geo_t *geo, json_t *features)
{
    int checked = 0;
    for (size_t f = 0; f < json_array_size (features); f++) {
        json_t *geometry = json_object_get (json_array_get (features, f), "geometry");
        double best = 0, cx = 0, cy = 0;
        json_t *rings;
        for (size_t p = 0; (rings = s_polygon (geometry, p)); p++) {
            json_t *ring = json_array_get (rings, 0);
            double a = 0, sx = 0, sy = 0;
            for (size_t i = 0; i + 1 < json_array_size (ring); i++) {
                double x1, y1, x2, y2;
                s_vertex (ring, i, &x1, &y1);
                s_vertex (ring, i + 1, &x2, &y2);
                a += x1 * y2 - x2 * y1;
                sx += (x1 + x2) * (x1 * y2 - x2 * y1);
                sy += (y1 + y2) * (x1 * y2 - x2 * y1);
            }
            if (fabs (a) > best) {
                best = fabs (a);
                cx = sx / (3 * a);
                cy = sy / (3 * a);
            }
        }
        if (!s_geometry_contains (geometry, cx, cy))
            continue;
        char code [32];
        s_code_of (json_array_get (features, f), "adcode", code, sizeof code);
        yx_geo_loc_t loc;
        assert_int_equal (yx_geo_locate (geo, cy, cx, &loc), 0);
        if (strcmp (loc.street, code) || loc.how == YX_GEO_OUTSIDE)
            fail_msg ("centre (%.6f, %.6f) of street %s resolved to street \"%s\" (how %d)",
                      cy, cx, code, loc.street, loc.how);
        checked++;
    }
    return checked;
}

static void
test_real_config (void **state)
{
    (void) state;
    const char *streets = "config/city/streets.geojson", *grids = "config/city/grids.geojson";
    if (access (streets, R_OK) || access (grids, R_OK)) {
        streets = "/work/main/config/city/streets.geojson";
        grids = "/work/main/config/city/grids.geojson";
    }
    if (access (streets, R_OK) || access (grids, R_OK))
        skip ();
    char err [512] = "";
    yx_geo_t *geo = yx_geo_new (streets, grids, err, sizeof err);
    if (!geo)
        fail_msg ("%s", err);
    json_t *sroot = json_load_file (streets, 0, NULL);
    json_t *groot = json_load_file (grids, 0, NULL);
    json_t *sfeatures = json_object_get (sroot, "features");
    json_t *gfeatures = json_object_get (groot, "features");
    assert_int_equal (yx_geo_grid_count (geo), (int) json_array_size (gfeatures));
    assert_true (s_check_street_centres (geo, sfeatures) >= 5);
    //  Random points in the city: the grid an independent ray cast over the
    //  grids file finds (first in file order), else no grid
    srand (11);
    for (int i = 0; i < 2000; i++) {
        double lon = 119.16 + 0.30 * rand () / RAND_MAX;
        double lat = 26.03 + 0.40 * rand () / RAND_MAX;
        yx_geo_loc_t loc;
        assert_int_equal (yx_geo_locate (geo, lat, lon, &loc), 0);
        size_t f = 0;
        while (f < json_array_size (gfeatures)
           &&  !s_geometry_contains (json_object_get (json_array_get (gfeatures, f), "geometry"), lon, lat))
            f++;
        char code [32] = "";
        if (f < json_array_size (gfeatures))
            s_code_of (json_array_get (gfeatures, f), "code", code, sizeof code);
        if ((*code != 0) != (loc.how == YX_GEO_IN_GRID) || (*code && strcmp (code, loc.grid)))
            fail_msg ("(%.6f, %.6f): got grid \"%s\" how %d, ray cast says \"%s\"",
                      lat, lon, loc.grid, loc.how, code);
    }
    json_decref (sroot);
    json_decref (groot);
    yx_geo_destroy (&geo);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_grid_count),
        cmocka_unit_test (test_inside_grids),
        cmocka_unit_test (test_random_points_match_layout),
        cmocka_unit_test (test_shared_edges_resolve_to_one_grid),
        cmocka_unit_test (test_random_polygons_match_ray_cast),
        cmocka_unit_test (test_hole_and_island),
        cmocka_unit_test (test_multipolygon),
        cmocka_unit_test (test_uncovered_part_of_street),
        cmocka_unit_test (test_sliver_between_streets),
        cmocka_unit_test (test_far_points_are_outside),
        cmocka_unit_test (test_invalid_coordinates),
        cmocka_unit_test (test_locate_grid),
        cmocka_unit_test (test_gazetteer_longest_match),
        cmocka_unit_test (test_gazetteer_rejects_bad_files),
        cmocka_unit_test (test_gcj02_round_trip_fuzhou),
        cmocka_unit_test (test_gcj02_published_pairs),
        cmocka_unit_test (test_distance),
        cmocka_unit_test (test_malformed_geojson_rejected),
        cmocka_unit_test (test_load_from_files),
        cmocka_unit_test (test_real_config),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
