/*  geo_geojson.c — GeoJSON loader of the location module.

    Parses a FeatureCollection of Polygon/MultiPolygon features (WGS84
    [lon, lat]) into a yx_geo_layer_t: flat vertex and ring arrays plus the
    administrative codes each feature carries. Every defect is reported with
    the file, the feature index and what is wrong; nothing is trusted.
*/
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_private.h"

/* Parsing state for one file */
typedef struct {
    yx_geo_layer_t *layer;   /* layer being filled */
    const char *name;        /* file name for messages */
    int feature;             /* feature being parsed, -1 before the first */
    size_t ring_cap;         /* capacity of layer->ring_start */
    size_t pt_cap;           /* capacity of layer->pts, in doubles */
    int nrings;              /* rings parsed so far */
    size_t npts;             /* doubles in layer->pts so far */
    char *err;               /* caller's message buffer */
    size_t errlen;           /* its size */
} s_parser_t;

//  Grows buf (realloc) so it holds at least need elements of size elem,
//  doubling; updates *cap. Returns the (possibly moved) buffer, or NULL on
//  overflow or out of memory, leaving buf valid.

void *
yx_geo_grow (void *buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap && buf)
        return buf;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 4 / elem)
            return NULL;
        ncap *= 2;
    }
    void *grown = realloc (buf, ncap * elem);
    if (grown)
        *cap = ncap;
    return grown;
}

//  Formats "NAME: feature N: what" (or "NAME: what" outside features) into
//  the caller's buffer; always returns -1.

static int
s_fail (s_parser_t *self, const char *fmt, ...)
{
    char what [512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (what, sizeof what, fmt, args);
    va_end (args);
    if (self->feature >= 0)
        snprintf (self->err, self->errlen, "%s: feature %d: %s", self->name, self->feature, what);
    else
        snprintf (self->err, self->errlen, "%s: %s", self->name, what);
    return -1;
}

//  Parses one ring (array of >= 4 [lon, lat] positions, closed) into the
//  layer and widens the shape's bbox.

static int
s_ring (s_parser_t *self, json_t *ring, int poly, int index)
{
    if (!json_is_array (ring))
        return s_fail (self, "geometry: polygon %d ring %d is not an array", poly, index);
    size_t n = json_array_size (ring);
    if (n < 4)
        return s_fail (self, "geometry: polygon %d ring %d has %zu positions (a closed ring needs 4)",
                       poly, index, n);
    yx_geo_layer_t *layer = self->layer;
    double *pts = yx_geo_grow (layer->pts, &self->pt_cap, self->npts + 2 * n, sizeof (double));
    if (!pts)
        return s_fail (self, "out of memory");
    layer->pts = pts;
    int *starts = yx_geo_grow (layer->ring_start, &self->ring_cap,
                               (size_t) self->nrings + 2, sizeof (int));
    if (!starts)
        return s_fail (self, "out of memory");
    layer->ring_start = starts;
    if (self->npts + 2 * n > (size_t) INT32_MAX)
        return s_fail (self, "too many vertices");

    double *bbox = layer->bbox + 4 * self->feature;
    double *out = pts + self->npts;
    for (size_t i = 0; i < n; i++) {
        json_t *pos = json_array_get (ring, i);
        json_t *jlon = json_array_get (pos, 0);
        json_t *jlat = json_array_get (pos, 1);
        if (!json_is_array (pos) || !json_is_number (jlon) || !json_is_number (jlat))
            return s_fail (self, "geometry: polygon %d ring %d position %zu is not [lon, lat]",
                           poly, index, i);
        double lon = json_number_value (jlon);
        double lat = json_number_value (jlat);
        if (!(lon >= -180.0 && lon <= 180.0))
            return s_fail (self, "geometry: polygon %d ring %d position %zu: longitude %g out of range",
                           poly, index, i, lon);
        if (!(lat >= -90.0 && lat <= 90.0))
            return s_fail (self, "geometry: polygon %d ring %d position %zu: latitude %g out of range",
                           poly, index, i, lat);
        out [2 * i] = lon;
        out [2 * i + 1] = lat;
        bbox [0] = fmin (bbox [0], lon);
        bbox [1] = fmin (bbox [1], lat);
        bbox [2] = fmax (bbox [2], lon);
        bbox [3] = fmax (bbox [3], lat);
    }
    if (out [0] != out [2 * n - 2] || out [1] != out [2 * n - 1])
        return s_fail (self, "geometry: polygon %d ring %d is not closed (first and last positions differ)",
                       poly, index);
    starts [self->nrings++] = (int) (self->npts / 2);
    self->npts += 2 * n;
    starts [self->nrings] = (int) (self->npts / 2);
    return 0;
}

//  Parses one polygon: an array of rings, the first outer, the rest holes.

static int
s_polygon (s_parser_t *self, json_t *rings, int poly)
{
    if (!json_is_array (rings))
        return s_fail (self, "geometry: polygon %d is not an array of rings", poly);
    if (json_array_size (rings) == 0)
        return s_fail (self, "geometry: polygon %d has no rings", poly);
    for (size_t i = 0; i < json_array_size (rings); i++)
        if (s_ring (self, json_array_get (rings, i), poly, (int) i))
            return -1;
    return 0;
}

//  Parses a Polygon or MultiPolygon geometry object.

static int
s_geometry (s_parser_t *self, json_t *geom)
{
    if (!json_is_object (geom))
        return s_fail (self, "geometry is missing or not an object");
    const char *type = json_string_value (json_object_get (geom, "type"));
    json_t *coords = json_object_get (geom, "coordinates");
    if (!type)
        return s_fail (self, "geometry has no type");
    if (!json_is_array (coords))
        return s_fail (self, "geometry has no coordinates array");
    if (streq (type, "Polygon"))
        return s_polygon (self, coords, 0);
    if (!streq (type, "MultiPolygon"))
        return s_fail (self, "geometry type \"%s\" is not Polygon or MultiPolygon", type);
    if (json_array_size (coords) == 0)
        return s_fail (self, "geometry: MultiPolygon has no polygons");
    for (size_t i = 0; i < json_array_size (coords); i++)
        if (s_polygon (self, json_array_get (coords, i), (int) i))
            return -1;
    return 0;
}

//  Reads properties.KEY, a string or integer of exactly digits decimal
//  digits, into out (digits + 1 bytes).

static int
s_code (s_parser_t *self, json_t *props, const char *key, size_t digits, char *out)
{
    json_t *value = json_object_get (props, key);
    char text [32] = "";
    if (json_is_string (value))
        snprintf (text, sizeof text, "%s", json_string_value (value));
    else
    if (json_is_integer (value))
        snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
        return s_fail (self, "properties.%s is %s", key,
                       value? "not a string or integer": "missing");
    if (strlen (text) != digits || strspn (text, "0123456789") != digits)
        return s_fail (self, "properties.%s \"%s\" is not a %zu-digit code", key, text, digits);
    memcpy (out, text, digits + 1);
    return 0;
}

//  Checks that the code named key is the start of the longer code of_key.

static int
s_prefix (s_parser_t *self, const char *key, const char *code, const char *of_key, const char *of)
{
    if (strncmp (code, of, strlen (code)) == 0)
        return 0;
    return s_fail (self, "properties.%s \"%s\" is not the start of properties.%s \"%s\"",
                   key, code, of_key, of);
}

//  Reads the codes a feature of this kind must carry.

static int
s_properties (s_parser_t *self, yx_geo_kind_t kind, json_t *props)
{
    if (!json_is_object (props))
        return s_fail (self, "properties is missing or not an object");
    yx_geo_codes_t *codes = self->layer->codes + self->feature;
    if (kind == YX_GEO_STREETS)
        return s_code (self, props, "adcode", 9, codes->street)
            || s_code (self, props, "district_adcode", 6, codes->district)
            || s_prefix (self, "district_adcode", codes->district, "adcode", codes->street)? -1: 0;
    return s_code (self, props, "code", 15, codes->grid)
        || s_code (self, props, "community", 12, codes->community)
        || s_code (self, props, "street", 9, codes->street)
        || s_code (self, props, "district", 6, codes->district)
        || s_prefix (self, "community", codes->community, "code", codes->grid)
        || s_prefix (self, "street", codes->street, "community", codes->community)
        || s_prefix (self, "district", codes->district, "street", codes->street)? -1: 0;
}

//  Parses one Feature into shape self->feature.

static int
s_feature (s_parser_t *self, yx_geo_kind_t kind, json_t *feature)
{
    if (!json_is_object (feature))
        return s_fail (self, "not an object");
    const char *type = json_string_value (json_object_get (feature, "type"));
    if (!type || !streq (type, "Feature"))
        return s_fail (self, "type is not \"Feature\"");
    double *bbox = self->layer->bbox + 4 * self->feature;
    bbox [0] = bbox [1] = INFINITY;
    bbox [2] = bbox [3] = -INFINITY;
    self->layer->ring_first [self->feature] = self->nrings;
    if (s_properties (self, kind, json_object_get (feature, "properties"))
    ||  s_geometry (self, json_object_get (feature, "geometry")))
        return -1;
    self->layer->ring_first [self->feature + 1] = self->nrings;
    return 0;
}

//  Parses the document's features into the layer.

static int
s_collection (s_parser_t *self, yx_geo_kind_t kind, json_t *root)
{
    const char *type = json_string_value (json_object_get (root, "type"));
    json_t *features = json_object_get (root, "features");
    if (!json_is_object (root) || !type || !streq (type, "FeatureCollection"))
        return s_fail (self, "not a GeoJSON FeatureCollection");
    if (!json_is_array (features))
        return s_fail (self, "FeatureCollection has no features array");
    size_t count = json_array_size (features);
    if (count == 0)
        return s_fail (self, "FeatureCollection has no features");
    if (count > (size_t) INT32_MAX / 8)
        return s_fail (self, "too many features");
    yx_geo_layer_t *layer = self->layer;
    layer->ring_first = calloc (count + 1, sizeof (int));
    layer->bbox = calloc (4 * count, sizeof (double));
    layer->codes = calloc (count, sizeof (yx_geo_codes_t));
    if (!layer->ring_first || !layer->bbox || !layer->codes)
        return s_fail (self, "out of memory");
    for (size_t i = 0; i < count; i++) {
        self->feature = (int) i;
        if (s_feature (self, kind, json_array_get (features, i)))
            return -1;
        layer->count = (int) i + 1;
    }
    return 0;
}

//  Parses one FeatureCollection into layer. See geo_private.h.

int
yx_geo_layer_parse (yx_geo_layer_t *layer, yx_geo_kind_t kind, const char *name,
                    const char *text, size_t len, char *err, size_t errlen)
{
    s_parser_t parser = { .layer = layer, .name = name, .feature = -1,
                          .err = err, .errlen = errlen };
    json_error_t jerr;
    json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf (err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    int rc = s_collection (&parser, kind, root);
    json_decref (root);
    if (rc)
        yx_geo_layer_free (layer);
    return rc;
}

//  Frees the layer's arrays and zeroes it.

void
yx_geo_layer_free (yx_geo_layer_t *layer)
{
    free (layer->ring_first);
    free (layer->ring_start);
    free (layer->pts);
    free (layer->bbox);
    free (layer->codes);
    memset (layer, 0, sizeof *layer);
}
