/* The application template manifest (lodge-app.xml, schemas/application.rng)
 * as typed values, and the rendering of its ${param} placeholders.
 *
 * lodge_app_manifest_parse() validates against the schema, reads typed
 * values and checks them (paths, repeats, placeholders of the commands);
 * all errors are LODGE_ERROR (LODGE_ERROR_INVALID after the schema) and name
 * origin:line. Unlike LodgeEnvDef, defaults are filled in while reading
 * (mode 0644, owner 0:0), and lodge_app_manifest_format() writes them out:
 * the canonical form is explicit. Documented in docs/application.md. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"

G_BEGIN_DECLS

#define LODGE_APP_MANIFEST_NAME "lodge-app.xml"
#define LODGE_APP_MAX_TEMPLATE_BYTES (64 * 1024)   /* one config file template */
#define LODGE_APP_MAX_RENDERED_BYTES (1024 * 1024) /* the result of one rendering */
#define LODGE_APP_DEFAULT_MODE 0644

typedef struct {
  char *from; /* in the template tree, relative */
  char *to;   /* in the VE, absolute */
  guint line;
} LodgeAppCopy;

typedef struct {
  char *name;
  char *default_value; /* NULL: required */
  char *pattern;       /* NULL: any one line */
  guint line;
} LodgeAppParam;

typedef struct {
  char *path;          /* in the VE, absolute */
  char *template_path; /* in the template tree, relative */
  guint mode;          /* permission bits, at most 07777 */
  guint uid, gid;
  guint line;
} LodgeAppFile;

typedef struct {
  char *description;
  GPtrArray *copies; /* LodgeAppCopy */
  GPtrArray *params; /* LodgeAppParam */
  GPtrArray *files;  /* LodgeAppFile */
  char *launch, *reload, *health; /* reload, health may be NULL */
} LodgeAppManifest;

LodgeAppManifest *lodge_app_manifest_new (void);
void lodge_app_manifest_free (LodgeAppManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeAppManifest, lodge_app_manifest_free)

/* Schema, typed reading, semantic checks; @origin names the input in
 * errors ("web/lodge-app.xml"). */
LodgeAppManifest *lodge_app_manifest_parse (const char *xml, gsize len, const char *origin,
                                            GError **error);
/* Canonical XML; parse(format(m)) gives m again. */
char *lodge_app_manifest_format (const LodgeAppManifest *m);

const LodgeAppParam *lodge_app_manifest_find_param (const LodgeAppManifest *m, const char *name);

/* The value of every declared param: @given (name -> value, may be NULL)
 * over the defaults; a new table of name -> value. Errors
 * (LODGE_ERROR_INVALID) name @app, the VE's application name: a key not
 * declared, a required param without a value, a value with a line break or
 * other control character, a value not matching its pattern. */
GHashTable *lodge_app_manifest_values (const LodgeAppManifest *m, GHashTable *given,
                                       const char *app, GError **error);

/* Replaces ${name} in @text by values[name] and $$ by $; any other $ stays.
 * @shell_quote (for commands): each value is inserted single-quoted, so it
 * is one shell word whatever it holds. @what names the text in errors
 * ("templates/index.html"): a ${ without } or naming no key of @values,
 * a text over LODGE_APP_MAX_TEMPLATE_BYTES or a result over
 * LODGE_APP_MAX_RENDERED_BYTES (LODGE_ERROR_TOO_LARGE). */
char *lodge_app_render (const char *text, GHashTable *values, gboolean shell_quote,
                        const char *what, GError **error);

/* A path in the template tree: relative, no '.', '..' or empty component,
 * no control character. */
gboolean lodge_app_check_tree_path (const char *path, GError **error);
/* A path in the VE: absolute, normalised (no '.', '..', empty component,
 * trailing '/'), not '/', not /proc, /sys, /dev, /run or below them. */
gboolean lodge_app_check_ve_path (const char *path, GError **error);

/* What a VE's disk holds of an application, as the control center tells
 * it (the "disk" member of GET /v1/environments/NAME/apps) and the CLI
 * shows it: the planned version and configuration, or what the next
 * start does about it. */
typedef enum {
  LODGE_APP_DISK_INSTALLED,      /* as planned */
  LODGE_APP_DISK_NO_DISK,        /* the VE has no disk yet: its first start lays it in */
  LODGE_APP_DISK_NOT_INSTALLED,  /* the next start lays it in */
  LODGE_APP_DISK_CONFIG_PENDING, /* installed; the next start writes its configuration */
  LODGE_APP_DISK_OTHER_VERSION,  /* another version: the next start lays this one in */
  LODGE_APP_DISK_LAST
} LodgeAppDisk;
LODGE_ENUM_DECL (lodge_app_disk);
/* In words, for people ("not installed (the next start lays it in)"). */
const char *lodge_app_disk_describe (LodgeAppDisk disk);

G_END_DECLS
