/* decide.h — what a case is and who must act: pure functions over the configuration
 * and the text model, no I/O, so they are unit-tested directly. */
#ifndef YX_DECIDE_H
#define YX_DECIDE_H

#include "config.h"
#include "textmodel.h"

#define YX_ALT_MAX 3
#define YX_ROUTE_MAX 8

typedef struct {
    char code[8];        /* subcategory */
    double confidence;   /* 0..1 */
} yx_candidate_t;

typedef struct {
    char method[12];                 /* reporter | rule | model | none */
    char code[8];                    /* chosen subcategory, "" if none */
    double confidence;               /* 0..1 */
    yx_candidate_t alt[YX_ALT_MAX];  /* next best choices */
    int nalt;                        /* entries in alt */
    char label[48];                  /* text model label when method is model */
} yx_decision_t;

typedef struct {
    char mode[12];                          /* owner | locality | fallback */
    char lead[YX_ID_MAX];                   /* lead department */
    char assist[YX_ROUTE_MAX][YX_ID_MAX];   /* assisting departments */
    int nassist;                            /* entries in assist */
    char next[YX_ROUTE_MAX][YX_ID_MAX];     /* further candidates if the lead returns it */
    int nnext;                              /* entries in next */
} yx_route_t;

/* Decides the subcategory. reported: the reporter's category or NULL; text: title and
 * description. model may be NULL (rules only). Always fills d; method "none" when
 * nothing matched. */
void yx_decide_category (const yx_config_t *cfg, const yx_textmodel_t *model, const char *reported,
                         const char *text, yx_decision_t *d);

/* Routes a subcategory at a location through the responsibility list, with the
 * street office as the locality fallback (属地兜底). -1 when nobody can be found
 * (no rule and no street office), which sends the case to triage. */
int yx_decide_route (const yx_config_t *cfg, const char *category, const char *community,
                     const char *street, const char *district, yx_route_t *r);

#endif
