/* Errors of the common layer (XML, definitions, generated domain XML). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LODGE_ERROR (lodge_error_quark ())
GQuark lodge_error_quark (void);

typedef enum {
  LODGE_ERROR_FAILED,    /* anything not listed below */
  LODGE_ERROR_IO,        /* a file could not be read or written */
  LODGE_ERROR_TOO_LARGE, /* input over a size limit */
  LODGE_ERROR_MALFORMED, /* not well-formed XML, or a refused construct (DTD, entities) */
  LODGE_ERROR_SCHEMA,    /* well-formed, but not valid against the RelaxNG schema */
  LODGE_ERROR_INVALID,   /* schema-valid, but a value or a combination is not allowed */
  LODGE_ERROR_CAPACITY,  /* no node has room for it */
  LODGE_ERROR_FORBIDDEN, /* not the requester's to do (a customer's template, <priority>) */
  LODGE_ERROR_QUOTA,     /* over the requester's quota */
} LodgeErrorCode;

G_END_DECLS
