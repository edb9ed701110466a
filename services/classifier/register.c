/* register.c — REPORTED → REGISTERED.
 *
 *   on CaseReported(id) or a stale q:classify entry:
 *     case = load(id); if case.state != REPORTED: drop the queue entry, done
 *     decision = category(reporter | rules | model); route = responsibility(category, place)
 *     triage = no decision, confidence < classifier.min_confidence, located nowhere, no route
 *     commit(guard: state REPORTED and version): doc += category, classification, routing,
 *            priority, grade; ZREM q:classify; ZADD q:dispatch (or q:triage)
 *     push CaseClassified to the dispatcher unless triaged
 *
 *   duplicates: an open case of the same subcategory within its duplicate radius
 *   (default 50 m) reported inside its window → the new case is MERGED into it in the
 *   same kind of guarded commit (the other case: merged += 1, dups += id, timeline),
 *   and an event tells the reporter's source */
#include "classifier.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "case.h"
#include "event.h"
#include "log.h"
#include "stage.h"
#include "txn.h"
#include "util.h"

/* The classification block shown in GET /v1/cases/{id}. */
static json_t *
s_classification (const yx_config_t *cfg, const yx_decision_t *d)
{
    json_t *alts = json_array ();
    for (int i = 0; i < d->nalt; i++) {
        const yx_category_t *c = yx_config_category (cfg, d->alt[i].code);
        json_array_append_new (alts, json_pack ("{s:s, s:s, s:f}", "code", d->alt[i].code, "name",
                                                c ? c->name : "", "confidence", d->alt[i].confidence));
    }
    json_t *o = json_pack ("{s:s, s:f, s:o}", "method", d->method, "confidence", d->confidence,
                           "alternatives", alts);
    if (*d->label)
        json_object_set_new (o, "topic", json_string (d->label));
    return o;
}

/* The routing block: the chosen departments and the candidates after them. */
static json_t *
s_routing (const yx_route_t *r)
{
    json_t *assist = json_array (), *next = json_array ();
    for (int i = 0; i < r->nassist; i++)
        json_array_append_new (assist, json_string (r->assist[i]));
    for (int i = 0; i < r->nnext; i++)
        json_array_append_new (next, json_string (r->next[i]));
    return json_pack ("{s:s, s:s, s:o, s:o}", "mode", r->mode, "lead", r->lead, "assist", assist,
                      "candidates", next);
}

/* Nudges the dispatcher; the q:dispatch entry is the real hand-over. */
static void
s_nudge (yx_classifier_t *self, const char *id, long long version, const char *category)
{
    char eid[40];
    Yixian__V1__CaseClassified m = YIXIAN__V1__CASE_CLASSIFIED__INIT;
    m.case_id = (char *) id;
    m.version = (uint64_t) version;
    m.event_id = yx_random_id (eid, sizeof eid);
    m.at_ms = yx_now_ms ();
    m.category = (char *) category;
    yx_env_t env = YIXIAN__V1__ENVELOPE__INIT;
    env.body_case = YIXIAN__V1__ENVELOPE__BODY_CLASSIFIED;
    env.classified = &m;
    if (self->to_dispatcher)
        yx_bus_send (self->to_dispatcher, NULL, NULL, 0, &env);
}

/* Finds an open case of category near (lat, lon) reported within the window.
 * 1 with its id in out, 0 if none, -1 when Redis is unavailable. */
static int
s_find_duplicate (yx_classifier_t *self, const yx_case_t *c, const yx_category_t *cat, char out[32])
{
    json_t *loc = json_object_get (c->doc, "location");
    if (cat->dup_radius_m <= 0 || !json_is_number (json_object_get (loc, "lat")))
        return 0;
    char k[96];
    yx_key_open (k, sizeof k, c->district, cat->code);
    redisReply *r = yx_store_cmd (self->store, "GEOSEARCH %s FROMLONLAT %.7f %.7f BYRADIUS %d m ASC COUNT 8", k,
                                  json_number_value (json_object_get (loc, "lon")),
                                  json_number_value (json_object_get (loc, "lat")), cat->dup_radius_m);
    if (!r)
        return -1;
    int found = 0;
    int64_t since = json_integer_value (json_object_get (c->doc, "created_ms")) - cat->dup_window_ms;
    for (size_t i = 0; !found && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        yx_case_t other;
        if (r->element[i]->type != REDIS_REPLY_STRING || strcmp (r->element[i]->str, c->id) == 0
            || yx_case_load (self->store, r->element[i]->str, 0, &other) != YX_CASE_FOUND)
            continue;
        if (yx_case_is_open (other.state) && json_integer_value (json_object_get (other.doc, "created_ms")) >= since) {
            snprintf (out, 32, "%s", other.id);
            found = 1;
        }
        yx_case_clear (&other);
    }
    freeReplyObject (r);
    return found;
}

/* Commits REPORTED → MERGED into target. 0 done, -1 retry. */
static int
s_merge (yx_classifier_t *self, yx_case_t *c, const char *target, const yx_decision_t *d)
{
    int64_t now = yx_now_ms ();
    json_object_set_new (c->doc, "duplicate_of", json_string (target));
    json_object_set_new (c->doc, "updated_ms", json_integer (now));
    char *doc = json_dumps (c->doc, JSON_COMPACT | JSON_REAL_PRECISION (10));
    char note[96], version[24], k[128], eid[40];
    snprintf (note, sizeof note, "duplicate of %s (category=%s)", target, d->code);
    char *tl = yx_case_timeline_entry (now, "classifier", "MERGED", note);
    char *other_tl = yx_case_timeline_entry (now, "classifier", "DUPLICATE_MERGED", c->id);
    snprintf (version, sizeof version, "%lld", c->version);
    yx_txn_t t;
    yx_txn_init (&t, c->district, c->id);
    yx_txn_zrem (&t, yx_key (k, sizeof k, c->district, YX_Q_CLASSIFY), c->id);
    yx_txn_hincrby (&t, yx_key (k, sizeof k, c->district, "case:%s", target), "merged", 1);
    yx_txn_sadd (&t, yx_key (k, sizeof k, c->district, "case:%s:dups", target), c->id);
    yx_txn_rpush (&t, yx_key (k, sizeof k, c->district, "case:%s:tl", target), other_tl);
    yx_txn_hincrby (&t, yx_key (k, sizeof k, c->district, YX_K_STATS), "merged", 1);
    yx_txn_hincrby (&t, yx_key (k, sizeof k, c->district, YX_K_STATS), "auto_merged", 1);
    Yixian__V1__CaseEvent ev = YIXIAN__V1__CASE_EVENT__INIT;
    ev.case_id = c->id;
    ev.version = (uint64_t) c->version + 1;
    ev.at_ms = now;
    ev.type = "MERGED";
    ev.state = "MERGED";
    ev.prev_state = "REPORTED";
    ev.category = (char *) d->code;
    ev.district = c->district;
    ev.actor = "classifier";
    ev.note = (char *) target;
    ev.source = (char *) yx_doc_str (c->doc, "source");
    uint8_t *packed = NULL;
    size_t plen = 0;
    yx_event_stage (&t, &ev, eid, &packed, &plen);
    yx_txn_spec_t spec = { .expected_version = version, .allowed_states = "REPORTED", .doc = doc,
                           .state = "MERGED", .timeline = tl };
    yx_txn_result_t res;
    yx_txn_status_t st = yx_txn_commit (&t, self->store, &spec, &res);
    yx_txn_free (&t);
    free (packed);
    free (doc);
    free (tl);
    free (other_tl);
    free (res.stored);
    if (st == YX_TXN_OK)
        yx_info ("case_merged", "case=%s into=%s category=%s", c->id, target, d->code);
    return st == YX_TXN_OK || (st == YX_TXN_CONFLICT && strcmp (res.reason, "state") == 0) ? 0 : -1;
}

int
yx_classifier_register (yx_classifier_t *self, const char *case_id)
{
    yx_case_t c;
    yx_case_load_t lr = yx_case_load (self->store, case_id, 0, &c);
    if (lr == YX_CASE_UNAVAILABLE)
        return -1;
    char district[8];
    if (lr == YX_CASE_MISSING) {
        if (yx_case_id_district (case_id, district) == 0)
            yx_stage_drop (self->store, district, YX_Q_CLASSIFY, case_id);
        return 0;
    }
    if (strcmp (c.state, "REPORTED") != 0) {
        yx_stage_drop (self->store, c.district, YX_Q_CLASSIFY, case_id);
        yx_case_clear (&c);
        return 0;
    }
    const yx_config_t *cfg = self->cfg;
    char text[8400];
    snprintf (text, sizeof text, "%s %s", yx_doc_str (c.doc, "title"), yx_doc_str (c.doc, "description"));
    yx_decision_t d;
    const char *reported = json_string_value (json_object_get (c.doc, "reported_category"));
    yx_decide_category (cfg, self->model, reported, text, &d);
    json_t *loc = json_object_get (c.doc, "location");
    yx_route_t route;
    bool routed = *d.code && yx_decide_route (cfg, d.code, yx_doc_str (loc, "community"),
                                             yx_doc_str (loc, "street"), c.district, &route) == 0;
    const char *triage = !*d.code                              ? "no_category"
                         : d.confidence < cfg->classifier_min_conf ? "low_confidence"
                         : strcmp (yx_doc_str (loc, "located_by"), "triage") == 0 ? "not_located"
                         : !routed                                ? "no_department"
                                                                  : NULL;
    const yx_category_t *cat = *d.code ? yx_config_category (cfg, d.code) : NULL;
    if (cat && !triage) {
        char target[32];
        int dup = s_find_duplicate (self, &c, cat, target);
        if (dup != 0) {
            json_object_set_new (c.doc, "category", json_pack ("{s:s, s:s, s:s}", "code", cat->code, "name",
                                                               cat->name, "class", cat->class_name));
            json_object_set_new (c.doc, "classification", s_classification (cfg, &d));
            int rc = dup < 0 ? -1 : s_merge (self, &c, target, &d);
            yx_case_clear (&c);
            return rc;
        }
    }
    json_object_set_new (c.doc, "category", cat ? json_pack ("{s:s, s:s, s:s}", "code", cat->code, "name",
                                                             cat->name, "class", cat->class_name)
                                                : json_null ());
    json_object_set_new (c.doc, "classification", s_classification (cfg, &d));
    if (cat)
        json_object_set_new (c.doc, "priority", json_string (cat->priority));
    if (routed) {
        json_object_set_new (c.doc, "routing", s_routing (&route));
        json_object_set_new (c.doc, "grade", json_string (route.nassist > 0 ? "tough" : "routine"));
    }
    json_object_set_new (c.doc, "triage", triage ? json_string (triage) : json_null ());
    int64_t now = yx_now_ms ();
    json_object_set_new (c.doc, "updated_ms", json_integer (now));
    char *doc = json_dumps (c.doc, JSON_COMPACT | JSON_REAL_PRECISION (10));
    char note[160], version[24], k[128];
    snprintf (note, sizeof note, "category=%s method=%s confidence=%.2f%s%s", *d.code ? d.code : "-", d.method,
              d.confidence, triage ? " triage=" : "", triage ? triage : "");
    char *tl = yx_case_timeline_entry (now, "classifier", "REGISTERED", note);
    snprintf (version, sizeof version, "%lld", c.version);
    yx_txn_t t;
    yx_txn_init (&t, c.district, case_id);
    yx_txn_zrem (&t, yx_key (k, sizeof k, c.district, YX_Q_CLASSIFY), case_id);
    yx_txn_zadd (&t, yx_key (k, sizeof k, c.district, triage ? YX_Q_TRIAGE : YX_Q_DISPATCH), (double) now, case_id);
    char field[48];
    snprintf (field, sizeof field, "category:%s", *d.code ? d.code : "none");
    yx_txn_hincrby (&t, yx_key (k, sizeof k, c.district, YX_K_STATS), field, 1);
    snprintf (field, sizeof field, "classified_by:%s", d.method);
    yx_txn_hincrby (&t, yx_key (k, sizeof k, c.district, YX_K_STATS), field, 1);
    if (triage)
        yx_txn_hincrby (&t, yx_key (k, sizeof k, c.district, YX_K_STATS), "triaged", 1);
    if (cat && json_is_number (json_object_get (loc, "lat")))
        yx_txn_geoadd (&t, yx_key_open (k, sizeof k, c.district, cat->code),
                       json_number_value (json_object_get (loc, "lon")), json_number_value (json_object_get (loc, "lat")),
                       case_id);
    yx_txn_spec_t spec = { .expected_version = version, .allowed_states = "REPORTED", .doc = doc,
                           .state = "REGISTERED", .timeline = tl };
    yx_txn_result_t res;
    yx_txn_status_t st = yx_txn_commit (&t, self->store, &spec, &res);
    yx_txn_free (&t);
    free (doc);
    free (tl);
    int rc = 0;
    if (st == YX_TXN_OK) {
        yx_info ("case_registered", "case=%s category=%s method=%s confidence=%.2f triage=%s", case_id,
                 *d.code ? d.code : "-", d.method, d.confidence, triage ? triage : "no");
        if (!triage)
            s_nudge (self, case_id, res.version, d.code);
    }
    else
    if (st == YX_TXN_CONFLICT && strcmp (res.reason, "state") == 0)
        yx_stage_drop (self->store, c.district, YX_Q_CLASSIFY, case_id);
    else
        rc = -1;
    free (res.stored);
    yx_case_clear (&c);
    return rc;
}
