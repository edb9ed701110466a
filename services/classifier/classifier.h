/* classifier.h — the classifier service: registers REPORTED cases with their
 * subcategory, location, priority, grade and departments (register.c). */
#ifndef YX_CLASSIFIER_H
#define YX_CLASSIFIER_H

#include "config.h"
#include "decide.h"
#include "store.h"

typedef struct {
    yx_config_t *cfg;         /* configuration */
    yx_textmodel_t *model;    /* text model, NULL if none configured */
    yx_store_t *store;        /* Redis */
    void *to_dispatcher;      /* PUSH nudges to the dispatcher */
} yx_classifier_t;

/* Registers one case if it is still REPORTED. 0 when done (registered or obsolete),
 * -1 to retry later (Redis unavailable or a concurrent change). */
int yx_classifier_register (yx_classifier_t *self, const char *case_id);

#endif
