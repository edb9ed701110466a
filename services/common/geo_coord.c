/*  geo_coord.c — coordinate systems and distances of the location module:
    WGS84 ↔ GCJ-02 ("Mars coordinates", the obfuscated datum many Chinese map
    apps report) and great-circle distance. Pure functions, no state.
*/
#include <math.h>

#include "geo_private.h"

//  Offset in degrees (dlat, dlon) that GCJ-02 adds at a WGS84 point: the
//  published "eviltransform" formula on the Krasovsky 1940 ellipsoid.

static void
s_gcj_delta (double lat, double lon, double *dlat, double *dlon)
{
    const double a = 6378245.0;
    const double ee = 0.00669342162296594323;
    double x = lon - 105.0, y = lat - 35.0;
    double common = (20.0 * sin (6.0 * x * M_PI) + 20.0 * sin (2.0 * x * M_PI)) * 2.0 / 3.0;
    double tlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt (fabs (x))
                + common
                + (20.0 * sin (y * M_PI) + 40.0 * sin (y / 3.0 * M_PI)) * 2.0 / 3.0
                + (160.0 * sin (y / 12.0 * M_PI) + 320.0 * sin (y * M_PI / 30.0)) * 2.0 / 3.0;
    double tlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt (fabs (x))
                + common
                + (20.0 * sin (x * M_PI) + 40.0 * sin (x / 3.0 * M_PI)) * 2.0 / 3.0
                + (150.0 * sin (x / 12.0 * M_PI) + 300.0 * sin (x / 30.0 * M_PI)) * 2.0 / 3.0;
    double rad = lat / 180.0 * M_PI;
    double magic = 1 - ee * sin (rad) * sin (rad);
    double sqrt_magic = sqrt (magic);
    *dlat = tlat * 180.0 / ((a * (1 - ee)) / (magic * sqrt_magic) * M_PI);
    *dlon = tlon * 180.0 / (a / sqrt_magic * cos (rad) * M_PI);
}

//  GCJ-02 leaves points outside mainland China's box unchanged.

static int
s_in_china (double lat, double lon)
{
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

//  WGS84 → GCJ-02.

void
yx_geo_wgs84_to_gcj02 (double lat, double lon, double *gcj_lat, double *gcj_lon)
{
    double dlat = 0, dlon = 0;
    if (s_in_china (lat, lon))
        s_gcj_delta (lat, lon, &dlat, &dlon);
    *gcj_lat = lat + dlat;
    *gcj_lon = lon + dlon;
}

//  Fixed-point iteration wgs ← wgs − (fwd (wgs) − gcj): the offset varies
//  slowly, so each step gains ~5 digits; stops at 1e-10° (~0.01 mm).

void
yx_geo_gcj02_to_wgs84 (double gcj_lat, double gcj_lon, double *wgs_lat, double *wgs_lon)
{
    double lat = gcj_lat, lon = gcj_lon;
    for (int i = 0; i < 10; i++) {
        double flat, flon;
        yx_geo_wgs84_to_gcj02 (lat, lon, &flat, &flon);
        double elat = flat - gcj_lat, elon = flon - gcj_lon;
        lat -= elat;
        lon -= elon;
        if (fabs (elat) < 1e-10 && fabs (elon) < 1e-10)
            break;
    }
    *wgs_lat = lat;
    *wgs_lon = lon;
}

//  Haversine distance in metres on the mean-radius sphere.

double
yx_geo_distance_m (double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double sdlat = sin ((p2 - p1) / 2);
    double sdlon = sin ((lon2 - lon1) * M_PI / 180 / 2);
    double h = sdlat * sdlat + cos (p1) * cos (p2) * sdlon * sdlon;
    return 2 * YX_GEO_EARTH_M * asin (sqrt (fmin (h, 1.0)));
}
