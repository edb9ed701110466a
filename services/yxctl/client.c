/* client.c — HTTP for yxctl: JSON in, JSON out, errors in the API's format. */
#include "yxctl.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;   /* response bytes */
    size_t len;   /* their count */
} s_buf_t;

/* curl write callback: appends to a growing buffer. */
static size_t
s_write (void *ptr, size_t size, size_t n, void *arg)
{
    s_buf_t *b = arg;
    size_t add = size * n;
    char *nd = realloc (b->data, b->len + add + 1);
    if (!nd)
        return 0;
    b->data = nd;
    memcpy (b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

int
yxctl_http (const yxctl_t *ctl, const char *method, const char *base, const char *path, json_t *body,
            json_t **out)
{
    *out = NULL;
    CURL *c = curl_easy_init ();
    if (!c)
        return 0;
    char url[2048], auth[512];
    snprintf (url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
    if (ctl->key) {
        snprintf (auth, sizeof auth, "Authorization: Bearer %s", ctl->key);
        h = curl_slist_append (h, auth);
    }
    char *payload = body ? json_dumps (body, JSON_COMPACT) : NULL;
    s_buf_t b = { 0 };
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt (c, CURLOPT_TIMEOUT, 30L);
    if (payload)
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, payload);
    CURLcode rc = curl_easy_perform (c);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf (stderr, "yxctl: %s: %s\n", url, curl_easy_strerror (rc));
    if (b.data)
        *out = json_loads (b.data, 0, NULL);
    free (b.data);
    free (payload);
    curl_slist_free_all (h);
    curl_easy_cleanup (c);
    return (int) status;
}

int
yxctl_fail (int status, json_t *resp)
{
    json_t *e = json_object_get (resp, "error");
    if (e)
        fprintf (stderr, "yxctl: %d %s: %s%s%s\n", status, json_string_value (json_object_get (e, "code")),
                 json_string_value (json_object_get (e, "message")),
                 json_object_get (e, "field") ? " (field " : "",
                 json_object_get (e, "field") ? json_string_value (json_object_get (e, "field")) : "");
    else
    if (status)
        fprintf (stderr, "yxctl: HTTP %d\n", status);
    json_decref (resp);
    return status == 0 ? 3 : 1;
}
