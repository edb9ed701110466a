/*  geo.c — the location module: point → grid → community → street → district.

    Ties together the GeoJSON loader (geo_geojson.c), the point-in-polygon
    index (geo_index.c, one over the grids and one over the streets) and the
    nearest-street index (geo_near.c); checks the two files against each
    other; answers grid-code and gazetteer lookups. The GCJ-02 transforms and
    distance live in geo_coord.c. See docs/location.md.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_private.h"

/* A code and the feature that has it */
typedef struct {
    const char *code;     /* points into a layer's codes */
    int index;            /* shape index of the feature that has it */
} s_ref_t;

/* One gazetteer name */
typedef struct {
    char *name;           /* place name as written in the file, UTF-8 */
    size_t len;           /* its length in bytes */
    int grid;             /* grid it is in */
    int line;             /* its line in the file */
} s_place_t;

struct yx_geo {
    yx_geo_layer_t streets;         /* street outlines, one shape per street */
    yx_geo_layer_t grids;           /* grid polygons, one shape per grid */
    yx_geo_pindex_t street_index;   /* point → street */
    yx_geo_pindex_t grid_index;     /* point → grid */
    yx_geo_nindex_t near;           /* point in no street → nearest street */
    yx_geo_plane_t plane;           /* lon/lat ↔ metres */
    int *grid_street;               /* per grid: its street's shape index */
    int *street_first;              /* per street: first in street_grids; [streets] = grids */
    int *street_grids;              /* grid indices grouped by street */
    s_ref_t *by_code;               /* grids sorted by code */
    double *rep;                    /* per grid: lon, lat of a point well inside it */
    s_place_t *places;              /* gazetteer, longest name first */
    int nplaces;                    /* names in places */
};

//  Orders refs by code (for lookups)

static int
s_ref_cmp (const void *a, const void *b)
{
    return strcmp (((const s_ref_t *) a)->code, ((const s_ref_t *) b)->code);
}

//  Orders refs by code, then feature (for sorting: duplicates stay in file order)

static int
s_ref_sort_cmp (const void *a, const void *b)
{
    int cmp = s_ref_cmp (a, b);
    return cmp? cmp: ((const s_ref_t *) a)->index - ((const s_ref_t *) b)->index;
}

//  Sorts refs of a layer's codes (grid codes, or street codes if streets).

static s_ref_t *
s_sorted_refs (const yx_geo_layer_t *layer, int streets)
{
    s_ref_t *refs = malloc ((size_t) layer->count * sizeof *refs);
    if (!refs)
        return NULL;
    for (int i = 0; i < layer->count; i++)
        refs [i] = (s_ref_t) { streets? layer->codes [i].street: layer->codes [i].grid, i };
    qsort (refs, (size_t) layer->count, sizeof *refs, s_ref_sort_cmp);
    return refs;
}

//  Checks code uniqueness and links every grid to its street; builds the
//  per-street grid lists and the code lookup.

static int
s_link (yx_geo_t *self, const char *sname, const char *gname, char *err, size_t errlen)
{
    int nstreets = self->streets.count;
    int ngrids = self->grids.count;
    s_ref_t *streets = s_sorted_refs (&self->streets, 1);
    self->by_code = s_sorted_refs (&self->grids, 0);
    self->grid_street = malloc ((size_t) ngrids * sizeof (int));
    self->street_first = calloc ((size_t) nstreets + 1, sizeof (int));
    self->street_grids = malloc ((size_t) ngrids * sizeof (int));
    int rc = streets && self->by_code && self->grid_street
          && self->street_first && self->street_grids? 0: -1;
    if (rc)
        snprintf (err, errlen, "out of memory");
    for (int i = 1; rc == 0 && i < nstreets; i++)
        if (streq (streets [i].code, streets [i - 1].code)) {
            snprintf (err, errlen, "%s: feature %d: street %s is also feature %d",
                      sname, streets [i].index, streets [i].code, streets [i - 1].index);
            rc = -1;
        }
    for (int i = 1; rc == 0 && i < ngrids; i++)
        if (streq (self->by_code [i].code, self->by_code [i - 1].code)) {
            snprintf (err, errlen, "%s: feature %d: grid %s is also feature %d",
                      gname, self->by_code [i].index, self->by_code [i].code, self->by_code [i - 1].index);
            rc = -1;
        }
    for (int g = 0; rc == 0 && g < ngrids; g++) {
        s_ref_t key = { self->grids.codes [g].street, 0 };
        s_ref_t *hit = bsearch (&key, streets, (size_t) nstreets, sizeof key, s_ref_cmp);
        if (!hit) {
            snprintf (err, errlen, "%s: feature %d: street %s is not in %s",
                      gname, g, key.code, sname);
            rc = -1;
        }
        else {
            self->grid_street [g] = hit->index;
            self->street_first [hit->index + 1]++;
        }
    }
    if (rc == 0) {
        for (int s = 0; s < nstreets; s++)
            self->street_first [s + 1] += self->street_first [s];
        for (int g = 0; g < ngrids; g++)
            self->street_grids [self->street_first [self->grid_street [g]]++] = g;
        for (int s = nstreets; s > 0; s--)
            self->street_first [s] = self->street_first [s - 1];
        self->street_first [0] = 0;
    }
    free (streets);
    return rc;
}

//  Finds every grid's representative point and checks that it resolves to
//  that grid: if another grid has it, the two overlap; if none does, the
//  grid has no usable area.

static int
s_rep_points (yx_geo_t *self, const char *gname, char *err, size_t errlen)
{
    self->rep = malloc (2 * (size_t) self->grids.count * sizeof (double));
    if (!self->rep) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    for (int g = 0; g < self->grids.count; g++) {
        double *p = self->rep + 2 * g;
        int found = -1;
        if (yx_geo_layer_inside_point (&self->grids, g, p, p + 1) == 0)
            found = yx_geo_pindex_find (&self->grid_index, p [0], p [1]);
        if (found < 0) {
            snprintf (err, errlen, "%s: feature %d: grid %s has no area",
                      gname, g, self->grids.codes [g].grid);
            return -1;
        }
        if (found != g) {
            snprintf (err, errlen, "%s: feature %d: grid %s overlaps feature %d (grid %s) at %.7f, %.7f",
                      gname, g, self->grids.codes [g].grid, found,
                      self->grids.codes [found].grid, p [1], p [0]);
            return -1;
        }
    }
    return 0;
}

//  Builds the object from two GeoJSON texts; names label messages.

static yx_geo_t *
s_new (const char *stext, size_t slen, const char *sname,
       const char *gtext, size_t glen, const char *gname, char *err, size_t errlen)
{
    yx_geo_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    int rc = yx_geo_layer_parse (&self->streets, YX_GEO_STREETS, sname, stext, slen, err, errlen)
          || yx_geo_layer_parse (&self->grids, YX_GEO_GRIDS, gname, gtext, glen, err, errlen)
          || s_link (self, sname, gname, err, errlen);
    if (rc == 0) {
        const double *b = self->streets.bbox;
        double minlat = b [1], maxlat = b [3], minlon = b [0];
        for (int i = 1; i < self->streets.count; i++) {
            minlat = fmin (minlat, b [4 * i + 1]);
            maxlat = fmax (maxlat, b [4 * i + 3]);
            minlon = fmin (minlon, b [4 * i]);
        }
        self->plane.lon0 = minlon;
        self->plane.lat0 = (minlat + maxlat) / 2;
        self->plane.ky = YX_GEO_EARTH_M * M_PI / 180;
        self->plane.kx = self->plane.ky * cos (self->plane.lat0 * M_PI / 180);
        rc = yx_geo_pindex_build (&self->grid_index, &self->grids, err, errlen)
          || yx_geo_pindex_build (&self->street_index, &self->streets, err, errlen)
          || yx_geo_nindex_build (&self->near, &self->streets, &self->street_index, &self->plane,
                                  YX_GEO_NEAR_LIMIT_M, err, errlen)
          || s_rep_points (self, gname, err, errlen);
    }
    if (rc)
        yx_geo_destroy (&self);
    return self;
}

//  Reads a whole file; NULL with "PATH: reason" in err.

static char *
s_read_file (const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        char *grown = yx_geo_grow (text, &cap, *len + 65536, 1);
        if (!grown)
            break;
        text = grown;
        size_t n = fread (text + *len, 1, cap - *len, file);
        *len += n;
        if (n == 0)
            break;
    }
    int ok = text && feof (file) && !ferror (file);
    fclose (file);
    if (!ok) {
        snprintf (err, errlen, "%s: read failed", path);
        free (text);
        return NULL;
    }
    return text;
}

//  Loads both files and builds the indexes; NULL with "FILE: ..." in err.

yx_geo_t *
yx_geo_new (const char *streets_path, const char *grids_path, char *err, size_t errlen)
{
    char scratch [1];
    if (!err || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    size_t slen, glen;
    char *stext = s_read_file (streets_path, &slen, err, errlen);
    char *gtext = stext? s_read_file (grids_path, &glen, err, errlen): NULL;
    yx_geo_t *self = NULL;
    if (stext && gtext)
        self = s_new (stext, slen, streets_path, gtext, glen, grids_path, err, errlen);
    free (stext);
    free (gtext);
    return self;
}

//  Same from memory; messages name the documents "streets" and "grids".

yx_geo_t *
yx_geo_new_from_memory (const char *streets_json, size_t slen, const char *grids_json, size_t glen,
                        char *err, size_t errlen)
{
    char scratch [1];
    if (!err || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    return s_new (streets_json, slen, "streets", grids_json, glen, "grids", err, errlen);
}

//  Frees the gazetteer.

static void
s_places_free (yx_geo_t *self)
{
    for (int i = 0; i < self->nplaces; i++)
        free (self->places [i].name);
    free (self->places);
    self->places = NULL;
    self->nplaces = 0;
}

//  Frees everything and nulls the caller's pointer.

void
yx_geo_destroy (yx_geo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_geo_t *self = *self_p;
    yx_geo_layer_free (&self->streets);
    yx_geo_layer_free (&self->grids);
    yx_geo_pindex_free (&self->street_index);
    yx_geo_pindex_free (&self->grid_index);
    yx_geo_nindex_free (&self->near);
    free (self->grid_street);
    free (self->street_first);
    free (self->street_grids);
    free (self->by_code);
    free (self->rep);
    s_places_free (self);
    free (self);
    *self_p = NULL;
}

//  Fills out with a shape's codes.

static void
s_fill (yx_geo_loc_t *out, const yx_geo_codes_t *codes, yx_geo_how_t how)
{
    memcpy (out->grid, codes->grid, sizeof out->grid);
    memcpy (out->community, codes->community, sizeof out->community);
    memcpy (out->street, codes->street, sizeof out->street);
    memcpy (out->district, codes->district, sizeof out->district);
    out->how = how;
}

//  Squared metric distance from plane point (x, y) to grid g's outline.

static double
s_outline_dist2 (const yx_geo_t *self, int g, double x, double y)
{
    const yx_geo_layer_t *layer = &self->grids;
    const yx_geo_plane_t *pl = &self->plane;
    double best = INFINITY;
    for (int ring = layer->ring_first [g]; ring < layer->ring_first [g + 1]; ring++)
        for (int v = layer->ring_start [ring]; v < layer->ring_start [ring + 1] - 1; v++) {
            const double *p = layer->pts + 2 * v;
            double ax = (p [0] - pl->lon0) * pl->kx - x, ay = (p [1] - pl->lat0) * pl->ky - y;
            double dx = (p [2] - pl->lon0) * pl->kx - x - ax, dy = (p [3] - pl->lat0) * pl->ky - y - ay;
            double len2 = dx * dx + dy * dy;
            double t = len2 > 0? -(ax * dx + ay * dy) / len2: 0;
            t = t < 0? 0: t > 1? 1: t;
            double ex = ax + t * dx, ey = ay + t * dy;
            best = fmin (best, ex * ex + ey * ey);
        }
    return best;
}

//  Squared metric distance from (lon, lat) to grid g's bounding box.

static double
s_box_dist2 (const yx_geo_t *self, int g, double lon, double lat)
{
    const double *b = self->grids.bbox + 4 * g;
    double bx = fmax (fmax (b [0] - lon, lon - b [2]), 0) * self->plane.kx;
    double by = fmax (fmax (b [1] - lat, lat - b [3]), 0) * self->plane.ky;
    return bx * bx + by * by;
}

//  Grid of street s nearest to (lon, lat), a point in no grid whose nearest
//  street outline point is (qlon, qlat) (the point itself if inside s).
//  First tries the grid 1 m beyond q into the street; else measures the
//  street's grids, skipping those whose box is already farther than the
//  best outline found. -1 if the street has no grid.

static int
s_nearest_grid (const yx_geo_t *self, int s, double lon, double lat, double qlon, double qlat)
{
    const yx_geo_plane_t *pl = &self->plane;
    double x = (lon - pl->lon0) * pl->kx, y = (lat - pl->lat0) * pl->ky;
    double dx = (qlon - lon) * pl->kx, dy = (qlat - lat) * pl->ky;
    double len = sqrt (dx * dx + dy * dy);
    if (len > 0) {
        double beyond_lon = qlon + dx / len / pl->kx;
        double beyond_lat = qlat + dy / len / pl->ky;
        int g = yx_geo_pindex_find (&self->grid_index, beyond_lon, beyond_lat);
        if (g >= 0 && self->grid_street [g] == s)
            return g;
    }
    //  Exact: the grid whose box is nearest sets the bar, then only grids
    //  whose box is nearer than the bar are measured
    int first = self->street_first [s], last = self->street_first [s + 1];
    int nearest = -1;
    double best = INFINITY;
    for (int i = first; i < last; i++) {
        double box2 = s_box_dist2 (self, self->street_grids [i], lon, lat);
        if (box2 < best) {
            best = box2;
            nearest = self->street_grids [i];
        }
    }
    if (nearest < 0)
        return -1;
    best = s_outline_dist2 (self, nearest, x, y);
    for (int i = first; i < last; i++) {
        int g = self->street_grids [i];
        if (g != nearest && s_box_dist2 (self, g, lon, lat) < best) {
            double d2 = s_outline_dist2 (self, g, x, y);
            if (d2 < best) {
                best = d2;
                nearest = g;
            }
        }
    }
    return nearest;
}

//  Locates a WGS84 point; see geo.h. The hot path is one cell lookup.

int
yx_geo_locate (const yx_geo_t *self, double lat, double lon, yx_geo_loc_t *out)
{
    memset (out, 0, sizeof *out);
    out->how = YX_GEO_OUTSIDE;
    if (!(lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0))
        return -1;
    int g = yx_geo_pindex_find (&self->grid_index, lon, lat);
    if (g >= 0) {
        s_fill (out, self->grids.codes + g, YX_GEO_IN_GRID);
        return 0;
    }
    double qlon = lon, qlat = lat;
    int s = yx_geo_pindex_find (&self->street_index, lon, lat);
    if (s < 0)
        s = yx_geo_nindex_nearest (&self->near, lon, lat, &qlon, &qlat);
    if (s < 0)
        return 0;
    g = s_nearest_grid (self, s, lon, lat, qlon, qlat);
    if (g >= 0)
        s_fill (out, self->grids.codes + g, YX_GEO_NEAREST_STREET);
    else
        s_fill (out, self->streets.codes + s, YX_GEO_NEAREST_STREET);
    return 0;
}

//  Fills the answer for grid g with its representative point.

static int
s_grid_answer (const yx_geo_t *self, int g, yx_geo_loc_t *out, double *lat, double *lon)
{
    s_fill (out, self->grids.codes + g, YX_GEO_IN_GRID);
    if (lat)
        *lat = self->rep [2 * g + 1];
    if (lon)
        *lon = self->rep [2 * g];
    return 0;
}

//  Grid code → codes and representative point, by binary search.

int
yx_geo_locate_grid (const yx_geo_t *self, const char *grid, yx_geo_loc_t *out,
                    double *lat, double *lon)
{
    memset (out, 0, sizeof *out);
    out->how = YX_GEO_OUTSIDE;
    if (!grid)
        return -1;
    s_ref_t key = { grid, 0 };
    const s_ref_t *hit = bsearch (&key, self->by_code, (size_t) self->grids.count,
                                  sizeof key, s_ref_cmp);
    return hit? s_grid_answer (self, hit->index, out, lat, lon): -1;
}

//  Address → the longest gazetteer name it contains (names are kept
//  longest first, so the first hit wins).

int
yx_geo_locate_address (const yx_geo_t *self, const char *address, yx_geo_loc_t *out,
                       double *lat, double *lon)
{
    memset (out, 0, sizeof *out);
    out->how = YX_GEO_OUTSIDE;
    for (int i = 0; address && i < self->nplaces; i++)
        if (strstr (address, self->places [i].name))
            return s_grid_answer (self, self->places [i].grid, out, lat, lon);
    return -1;
}

static int
s_place_len_cmp (const void *a, const void *b)
{
    const s_place_t *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len? -1: 1;
    return x->line - y->line;
}

static int
s_place_name_cmp (const void *a, const void *b)
{
    const s_place_t *x = a, *y = b;
    int cmp = strcmp (x->name, y->name);
    return cmp? cmp: x->line - y->line;
}

//  Parses one "name<TAB>grid" line into a place; -1 with the reason.

static int
s_place_parse (const yx_geo_t *self, char *line, int lineno, s_place_t *place,
               const char *path, char *err, size_t errlen)
{
    char *tab = strchr (line, '\t');
    if (!tab || strchr (tab + 1, '\t')) {
        snprintf (err, errlen, "%s:%d: expected \"name<TAB>grid\"", path, lineno);
        return -1;
    }
    *tab = 0;
    s_ref_t key = { tab + 1, 0 };
    const s_ref_t *hit = bsearch (&key, self->by_code, (size_t) self->grids.count,
                                  sizeof key, s_ref_cmp);
    if (*line == 0 || !hit) {
        snprintf (err, errlen, "%s:%d: %s", path, lineno, *line? "unknown grid": "empty name");
        return -1;
    }
    *place = (s_place_t) { strdup (line), strlen (line), hit->index, lineno };
    if (!place->name) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

//  Loads the gazetteer, replacing the current one; on failure none is
//  loaded. Checks the header, every grid and that names are unique.

int
yx_geo_load_gazetteer (yx_geo_t *self, const char *path, char *err, size_t errlen)
{
    char scratch [1];
    if (!err || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return -1;
    }
    s_places_free (self);
    char *line = NULL;
    size_t line_cap = 0, places_cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline (&line, &line_cap, file) >= 0) {
        lineno++;
        line [strcspn (line, "\r\n")] = 0;
        if (lineno == 1) {
            if (!streq (line, "name\tgrid")) {
                snprintf (err, errlen, "%s:1: header is not \"name<TAB>grid\"", path);
                rc = -1;
            }
            continue;
        }
        if (*line == 0)
            continue;
        s_place_t *places = yx_geo_grow (self->places, &places_cap,
                                         (size_t) self->nplaces + 1, sizeof *places);
        if (!places) {
            snprintf (err, errlen, "out of memory");
            rc = -1;
        }
        else {
            self->places = places;
            rc = s_place_parse (self, line, lineno, places + self->nplaces, path, err, errlen);
            self->nplaces += rc == 0;
        }
    }
    free (line);
    fclose (file);
    if (rc == 0 && lineno == 0) {
        snprintf (err, errlen, "%s: empty file (no header)", path);
        rc = -1;
    }
    if (rc == 0 && self->nplaces > 1) {
        qsort (self->places, (size_t) self->nplaces, sizeof *self->places, s_place_name_cmp);
        for (int i = 1; rc == 0 && i < self->nplaces; i++)
            if (streq (self->places [i].name, self->places [i - 1].name)) {
                snprintf (err, errlen, "%s:%d: name \"%s\" already on line %d", path,
                          self->places [i].line, self->places [i].name, self->places [i - 1].line);
                rc = -1;
            }
        qsort (self->places, (size_t) self->nplaces, sizeof *self->places, s_place_len_cmp);
    }
    if (rc)
        s_places_free (self);
    return rc;
}

//  Number of grids loaded.

int
yx_geo_grid_count (const yx_geo_t *self)
{
    return self->grids.count;
}
