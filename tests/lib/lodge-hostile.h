/* Hostile XML documents, shared by the hostile-input tests and bench-xml. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The classic "billion laughs": nine levels of ten entity references. */
char *lodge_hostile_billion_laughs (void);
/* <environment> holding @depth nested <a> elements. */
char *lodge_hostile_deep_nesting (guint depth);

G_END_DECLS
