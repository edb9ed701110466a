/* web.c — the dashboard's files and the map geometry.
 *
 * The page (web/index.html, app.js, style.css) is assembled into the binary with
 * .incbin, so the service needs no files at run time and the page no CDN; make
 * rebuilds this object when a file under web/ changes (embed.mk). The grid and
 * street outlines come from the GeoJSON files the configuration names and are cut
 * to the caller's scope on request. */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "case.h"
#include "log.h"

/* Defines hidden symbols NAME and NAME_end around the bytes of FILE. */
#define S_EMBED(name, file)                                                                        \
    ".global " #name "\n.hidden " #name "\n" #name ":\n.incbin \"" file "\"\n"                   \
    ".global " #name "_end\n.hidden " #name "_end\n" #name "_end:\n"

__asm__ (".pushsection .rodata\n"
         S_EMBED (yx_web_index, "services/metrics/web/index.html")
         S_EMBED (yx_web_app, "services/metrics/web/app.js")
         S_EMBED (yx_web_style, "services/metrics/web/style.css")
         ".popsection\n");

#define S_HIDDEN __attribute__ ((visibility ("hidden")))
extern const char yx_web_index[] S_HIDDEN, yx_web_index_end[] S_HIDDEN;
extern const char yx_web_app[] S_HIDDEN, yx_web_app_end[] S_HIDDEN;
extern const char yx_web_style[] S_HIDDEN, yx_web_style_end[] S_HIDDEN;

int
yx_web_asset (const char *url, yx_http_resp_t *resp)
{
    const char *start, *end, *type;
    if (strcmp (url, "/") == 0 || strcmp (url, "/index.html") == 0)
        start = yx_web_index, end = yx_web_index_end, type = "text/html; charset=utf-8";
    else
    if (strcmp (url, "/app.js") == 0)
        start = yx_web_app, end = yx_web_app_end, type = "application/javascript; charset=utf-8";
    else
    if (strcmp (url, "/style.css") == 0)
        start = yx_web_style, end = yx_web_style_end, type = "text/css; charset=utf-8";
    else
        return -1;
    yx_http_text (resp, 200, type, start, (size_t) (end - start));
    resp->cache_control = "no-cache";
    return 0;
}

/* A copy of a FeatureCollection with only the named properties (strings or null).
 * NULL when the input is not a FeatureCollection. */
static json_t *
s_slim (json_t *fc, const char *const *props, int nprops)
{
    json_t *features = json_object_get (fc, "features");
    if (!json_is_array (features))
        return NULL;
    json_t *out = json_array ();
    size_t i;
    json_t *f;
    json_array_foreach (features, i, f) {
        json_t *p = json_object_get (f, "properties"), *g = json_object_get (f, "geometry");
        if (!json_is_object (p) || !json_is_object (g))
            continue;
        json_t *np = json_object ();
        for (int k = 0; k < nprops; k++) {
            json_t *v = json_object_get (p, props[k]);
            json_object_set (np, props[k], json_is_string (v) ? v : json_null ());
        }
        json_array_append_new (out, json_pack ("{s:s, s:o, s:O}", "type", "Feature", "properties", np, "geometry", g));
    }
    return json_pack ("{s:s, s:o}", "type", "FeatureCollection", "features", out);
}

/* Loads one GeoJSON file and keeps the named properties. NULL on failure (logged). */
static json_t *
s_load (const char *path, const char *const *props, int nprops)
{
    json_error_t je;
    json_t *fc = json_load_file (path, 0, &je);
    json_t *slim = fc ? s_slim (fc, props, nprops) : NULL;
    json_decref (fc);
    if (!slim) {
        char v[600];
        yx_error ("geo_load_failed", "file=%s line=%d", yx_log_value (path, v, sizeof v), je.line);
    }
    return slim;
}

int
yx_web_load_geo (yx_metrics_t *mx, char *err, size_t errlen)
{
    static const char *const grid_props[] = { "code", "community", "street", "district" };
    static const char *const street_props[] = { "adcode", "name", "district_adcode" };
    mx->grids = s_load (mx->cfg->geo_grids, grid_props, 4);
    mx->streets = mx->grids ? s_load (mx->cfg->geo_streets, street_props, 3) : NULL;
    if (mx->grids && mx->streets)
        return 0;
    snprintf (err, errlen, "geo: cannot read %s", mx->grids ? mx->cfg->geo_streets : mx->cfg->geo_grids);
    return -1;
}

json_t *
yx_web_geo (const yx_metrics_t *mx, const char *which, const char *scope)
{
    bool grids = strcmp (which, "grids") == 0;
    json_t *src = json_object_get (grids ? mx->grids : mx->streets, "features");
    json_t *out = json_array ();
    size_t i;
    json_t *f;
    json_array_foreach (src, i, f) {
        json_t *p = json_object_get (f, "properties");
        bool keep;
        if (grids)
            keep = yx_area_contains (scope, yx_doc_str (p, "district"), yx_doc_str (p, "street"),
                                     yx_doc_str (p, "community"));
        else {
            const char *street = yx_doc_str (p, "adcode");
            keep = yx_area_contains (scope, yx_doc_str (p, "district_adcode"), street, "")
                   || (strlen (scope) == 12 && strncmp (scope, street, 9) == 0);
        }
        if (keep)
            json_array_append (out, f);
    }
    return json_pack ("{s:s, s:o}", "type", "FeatureCollection", "features", out);
}
