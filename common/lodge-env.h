/* The environment (VE) definition: schemas/environment.rng as typed values.
 *
 * lodge_env_def_parse() validates against the schema, then reads typed
 * values, checking each single value (ranges, address syntax); then
 * lodge_env_def_validate() checks combinations (memory committed <= memory,
 * unique addresses, one default gateway per family, ...). Fields hold what
 * the XML said: an element left out stays unset (0, NULL, ..._DEFAULT) and
 * lodge_env_def_format() leaves it out again; the lodge_env_def_effective_*
 * getters apply the defaults. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_RESTART_DEFAULT, /* not given: LODGE_RESTART_ALWAYS */
  LODGE_RESTART_ALWAYS,
  LODGE_RESTART_ON_FAILURE,
  LODGE_RESTART_NEVER,
  LODGE_RESTART_LAST
} LodgeRestartPolicy;
LODGE_ENUM_DECL (lodge_restart_policy);

typedef enum {
  LODGE_IP_V4,
  LODGE_IP_V6,
  LODGE_IP_LAST
} LodgeIpFamily;
LODGE_ENUM_DECL (lodge_ip_family);

#define LODGE_ENV_DEFAULT_REPLICAS 3
#define LODGE_ENV_DEFAULT_PRIORITY 100
#define LODGE_ENV_MAX_PRIORITY 1000
#define LODGE_ENV_MAX_VCPUS 256
#define LODGE_ENV_MIN_MEMORY (32ULL << 20)
#define LODGE_ENV_MAX_MEMORY (4ULL << 40)
#define LODGE_ENV_MIN_DISK (64ULL << 20)
#define LODGE_ENV_MAX_DISK (64ULL << 40)
/* Resource limits (docs/environment.md, <cpu> and <io>): a VE's CPU
 * weight is 100 per vCPU unless given (cgroup cpu.weight's range); its
 * disk is throttled to these unless given. */
#define LODGE_ENV_CPU_WEIGHT_PER_VCPU 100
#define LODGE_ENV_MAX_CPU_WEIGHT 10000
#define LODGE_ENV_DEFAULT_IOPS 2000
#define LODGE_ENV_MAX_IOPS 1000000
#define LODGE_ENV_DEFAULT_BANDWIDTH (200ULL << 20)
#define LODGE_ENV_MIN_BANDWIDTH (1ULL << 20)
#define LODGE_ENV_MAX_BANDWIDTH (64ULL << 30)

typedef struct {
  LodgeIpFamily family;
  char *address; /* canonical text form (inet_ntop) */
  guint8 bytes[16];
  guint prefix;  /* interface addresses only */
  guint line;
} LodgeEnvIp;

typedef struct {
  char *name;
  char *value;
  guint line;
} LodgeEnvParam;

typedef struct {
  char *name;
  char *mac;           /* lower case; NULL: derived from the VE and interface names */
  GPtrArray *ips;      /* LodgeEnvIp, with prefix */
  GPtrArray *gateways; /* LodgeEnvIp */
  guint line;
} LodgeEnvInterface;

typedef struct {
  char *name;
  gboolean autostart;
  char *source_template;
  char *source_version; /* NULL: newest */
  GPtrArray *params;    /* LodgeEnvParam */
  char *launch;         /* NULL: the application template's own */
  guint line;
} LodgeEnvApplication;

typedef struct {
  char *name;
  char *description;
  char *owner;            /* the customer's user name, or NULL: the provider's */
  char *template_name;
  char *template_version; /* NULL: the template's newest version */

  guint vcpus;
  guint64 memory;         /* bytes the guest sees */
  guint64 current_memory; /* bytes the host commits at start; 0: memory */
  guint64 disk;           /* bytes */
  guint memory_line, current_memory_line, disk_line;
  guint cpu_weight;       /* 1-10000; 0: 100 per vCPU */
  guint cpu_limit;        /* percent of one host CPU for all vCPUs together; 0: none */
  guint cpu_limit_line;
  guint io_iops;          /* read and write operations per second; 0: the default */
  guint64 io_bandwidth;   /* bytes per second, read and write; 0: the default */

  char *root_password_hash; /* crypt(5) $6$ or $y$, or NULL */
  GPtrArray *authorized_keys; /* char * */

  char *hostname; /* NULL: the VE name */
  char *timezone; /* NULL: UTC */
  GPtrArray *dns_servers; /* LodgeEnvIp */
  GPtrArray *dns_search;  /* char * */
  GPtrArray *sysctls;     /* LodgeEnvParam */

  GPtrArray *interfaces;  /* LodgeEnvInterface */

  guint replicas; /* 1-3; 0: LODGE_ENV_DEFAULT_REPLICAS */
  LodgeRestartPolicy restart;
  gboolean has_priority;
  guint priority;

  GPtrArray *applications; /* LodgeEnvApplication */
} LodgeEnvDef;

LodgeEnvDef *lodge_env_def_new (void);
void lodge_env_def_free (LodgeEnvDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeEnvDef, lodge_env_def_free)

/* Schema validation and typed reading; @origin names the input in errors. */
LodgeEnvDef *lodge_env_def_parse (const char *xml, gsize len, const char *origin,
                                  GError **error);
/* Checks of combinations of values; errors name origin:line. */
gboolean lodge_env_def_validate (const LodgeEnvDef *def, const char *origin, GError **error);
/* Parse, then validate: what every caller that takes a definition wants. */
LodgeEnvDef *lodge_env_def_load (const char *xml, gsize len, const char *origin, GError **error);
LodgeEnvDef *lodge_env_def_load_file (const char *path, GError **error);

char *lodge_env_def_format (const LodgeEnvDef *def);

/* The limits a VE runs under, its own or the defaults. */
guint lodge_env_def_effective_cpu_weight (const LodgeEnvDef *def);
guint lodge_env_def_effective_iops (const LodgeEnvDef *def);
guint64 lodge_env_def_effective_bandwidth (const LodgeEnvDef *def);

/* Editing a definition's applications (then format and load it again to
 * check it). */
void lodge_env_param_free (LodgeEnvParam *p);
LodgeEnvApplication *lodge_env_application_new (const char *name);
void lodge_env_application_free (LodgeEnvApplication *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeEnvApplication, lodge_env_application_free)
void lodge_env_application_set_param (LodgeEnvApplication *app, const char *name,
                                      const char *value);
LodgeEnvApplication *lodge_env_def_find_application (const LodgeEnvDef *def, const char *name);

guint64 lodge_env_def_effective_current_memory (const LodgeEnvDef *def);
guint lodge_env_def_effective_replicas (const LodgeEnvDef *def);
LodgeRestartPolicy lodge_env_def_effective_restart (const LodgeEnvDef *def);
guint lodge_env_def_effective_priority (const LodgeEnvDef *def);
const char *lodge_env_def_effective_hostname (const LodgeEnvDef *def);

G_END_DECLS
