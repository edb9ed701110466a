/* decide.c — keyword rules, the text model, and the responsibility list.
 *
 * Order of evidence: a valid category given by the reporter; keyword rules (the
 * taxonomy's keywords, longest total match wins: clear city-management reports);
 * the text model's topic, mapped through classifier.topics to a default
 * subcategory. Confidence of a rule is the winner's share of the matched keyword
 * weight, so a report that matches two subcategories equally is 0.5. */
#include "decide.h"

#include <stdio.h>
#include <string.h>

/* Inserts a candidate into a list sorted by confidence (descending), keeping max. */
static void
s_insert (yx_candidate_t *list, int *n, int max, const char *code, double conf)
{
    int pos = *n;
    while (pos > 0 && list[pos - 1].confidence < conf)
        pos--;
    if (pos >= max)
        return;
    int last = *n < max ? *n : max - 1;
    memmove (&list[pos + 1], &list[pos], sizeof *list * (size_t) (last - pos));
    snprintf (list[pos].code, sizeof list[pos].code, "%s", code);
    list[pos].confidence = conf;
    if (*n < max)
        (*n)++;
}

/* Keyword rules: fills best (up to YX_ALT_MAX+1) with raw weights. Returns the total
 * weight of all matches. */
static double
s_rules (const yx_config_t *cfg, const char *text, yx_candidate_t *best, int *nbest)
{
    double total = 0;
    *nbest = 0;
    for (int i = 0; i < cfg->ncats; i++) {
        const yx_category_t *c = &cfg->cats[i];
        double w = 0;
        for (int k = 0; k < c->nkeywords; k++)
            if (strstr (text, c->keywords[k]))
                w += (double) strlen (c->keywords[k]);
        if (w > 0) {
            total += w;
            s_insert (best, nbest, YX_ALT_MAX + 1, c->code, w);
        }
    }
    return total;
}

void
yx_decide_category (const yx_config_t *cfg, const yx_textmodel_t *model, const char *reported,
                    const char *text, yx_decision_t *d)
{
    memset (d, 0, sizeof *d);
    snprintf (d->method, sizeof d->method, "none");
    yx_candidate_t best[YX_ALT_MAX + 1];
    int nbest = 0;
    double total = s_rules (cfg, text, best, &nbest);
    if (reported && yx_config_category (cfg, reported)) {
        snprintf (d->method, sizeof d->method, "reporter");
        snprintf (d->code, sizeof d->code, "%s", reported);
        d->confidence = 1.0;
        for (int i = 0; i < nbest && d->nalt < YX_ALT_MAX; i++)
            if (strcmp (best[i].code, reported))
                s_insert (d->alt, &d->nalt, YX_ALT_MAX, best[i].code, best[i].confidence / total);
        return;
    }
    if (nbest > 0) {
        snprintf (d->method, sizeof d->method, "rule");
        snprintf (d->code, sizeof d->code, "%s", best[0].code);
        d->confidence = best[0].confidence / total;
        for (int i = 1; i < nbest; i++)
            s_insert (d->alt, &d->nalt, YX_ALT_MAX, best[i].code, best[i].confidence / total);
        return;
    }
    if (!model)
        return;
    yx_textpred_t preds[YX_ALT_MAX + 1];
    int np = yx_textmodel_predict (model, text, strlen (text), preds, YX_ALT_MAX + 1);
    for (int i = 0; i < np; i++) {
        const char *label = yx_textmodel_label (model, preds[i].label);
        const yx_topic_t *t = label ? yx_config_topic (cfg, label) : NULL;
        if (!t)
            continue;
        if (!*d->code) {
            snprintf (d->method, sizeof d->method, "model");
            snprintf (d->code, sizeof d->code, "%s", t->category);
            snprintf (d->label, sizeof d->label, "%s", label);
            d->confidence = preds[i].prob;
        }
        else
            s_insert (d->alt, &d->nalt, YX_ALT_MAX, t->category, preds[i].prob);
    }
}

/* Appends id to a list of department ids unless present or equal to skip. */
static void
s_add (char list[][YX_ID_MAX], int *n, const char *id, const char *skip)
{
    if (*n >= YX_ROUTE_MAX || strcmp (id, skip) == 0)
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp (list[i], id) == 0)
            return;
    snprintf (list[(*n)++], YX_ID_MAX, "%s", id);
}

int
yx_decide_route (const yx_config_t *cfg, const char *category, const char *community,
                 const char *street, const char *district, yx_route_t *r)
{
    memset (r, 0, sizeof *r);
    char office[YX_ID_MAX] = "";
    if (street && *street) {
        snprintf (office, sizeof office, "st-%s", street);
        if (!yx_config_dept (cfg, office))
            office[0] = 0;
    }
    const yx_resp_rule_t *rule = yx_config_rule (cfg, category, community, street, district);
    if (!rule) {
        if (!*office)
            return -1;
        snprintf (r->mode, sizeof r->mode, "fallback");
        snprintf (r->lead, sizeof r->lead, "%s", office);
        return 0;
    }
    if (rule->mode == YX_RESP_LOCALITY && *office) {
        snprintf (r->mode, sizeof r->mode, "locality");
        snprintf (r->lead, sizeof r->lead, "%s", office);
        for (int i = 0; i < rule->nlead; i++)
            s_add (r->next, &r->nnext, rule->lead[i], r->lead);
    }
    else {
        if (rule->nlead == 0) {
            if (!*office)
                return -1;
            snprintf (r->lead, sizeof r->lead, "%s", office);
        }
        else
            snprintf (r->lead, sizeof r->lead, "%s", rule->lead[0]);
        snprintf (r->mode, sizeof r->mode, "owner");
        for (int i = 1; i < rule->nlead; i++)
            s_add (r->next, &r->nnext, rule->lead[i], r->lead);
        if (*office)
            s_add (r->next, &r->nnext, office, r->lead);
    }
    for (int i = 0; i < rule->nassist; i++)
        s_add (r->assist, &r->nassist, rule->assist[i], r->lead);
    return 0;
}
