#include "lodge-customers.h"

#include <string.h>

#include "lodge-error.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"
#include "lodge-units.h"

static void
set_unknown (GError **error, const char *name)
{
  /* Word for word lodge_ctl_get_definition's. */
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND, "unknown environment '%s'",
               name);
}

/* VE @name's definition, read and checked; NULL with @error, or NULL
 * without it when it is gone. */
static LodgeEnvDef *
load (LodgeCtl *ctl, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (ctl, name, &local);
  if (xml == NULL)
    {
      if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return lodge_env_def_parse (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml), name, error);
}

gboolean
lodge_customer_owns (LodgeCtl *ctl, const char *owner, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (LodgeEnvDef) def = load (ctl, name, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (def == NULL || g_strcmp0 (def->owner, owner) != 0)
    {
      set_unknown (error, name);
      return FALSE;
    }
  return TRUE;
}

/* Calls @each for every VE of @owner but @except, with its definition. */
static gboolean
each_own (LodgeCtl *ctl, const char *owner, const char *except,
          void (*each) (const LodgeEnvDef *def, gpointer data), gpointer data, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (lodge_ctl_get_store (ctl), LODGE_STORE_ENV, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (g_strcmp0 (name, except) == 0)
        continue;
      g_autoptr (GError) local = NULL;
      g_autoptr (LodgeEnvDef) def = load (ctl, name, &local);
      if (local != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "environment %s: ", name);
          return FALSE;
        }
      if (def != NULL && g_strcmp0 (def->owner, owner) == 0)
        each (def, data);
    }
  return TRUE;
}

static void
add_name (const LodgeEnvDef *def, gpointer data)
{
  g_ptr_array_add (data, g_strdup (def->name));
}

GPtrArray *
lodge_customer_environments (LodgeCtl *ctl, const char *owner, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  if (!each_own (ctl, owner, NULL, add_name, names, error))
    return NULL;
  g_ptr_array_sort (names, lodge_compare_strings);
  return g_steal_pointer (&names);
}

typedef struct {
  LodgeCtl *ctl;
  LodgeUsage *usage;
} Counting;

/* Whether VE @name holds a node's vCPUs and memory, or is to. Its runtime
 * record alone: the caller has read its definition (lodge_ctl_runtime
 * would read it again). */
static gboolean
runs (LodgeCtl *ctl, const char *name)
{
  g_autoptr (GBytes) json = lodge_store_get (lodge_ctl_get_store (ctl), LODGE_STORE_RUNTIME, name,
                                             NULL, NULL);
  g_autoptr (LodgeRuntimeRecord) rt = json != NULL ? lodge_runtime_record_from_json (json, NULL) : NULL;
  return rt != NULL
         && (rt->desired == LODGE_DESIRED_RUNNING
             || (rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED));
}

static void
count (const LodgeEnvDef *def, gpointer data)
{
  Counting *c = data;
  c->usage->used[LODGE_QUOTA_ENVIRONMENTS]++;
  c->usage->used[LODGE_QUOTA_DISK] += (gint64) def->disk;
  if (runs (c->ctl, def->name))
    {
      c->usage->used[LODGE_QUOTA_VCPUS] += def->vcpus;
      c->usage->used[LODGE_QUOTA_MEMORY] += (gint64) def->memory;
    }
}

gboolean
lodge_customer_usage (LodgeCtl *ctl, const char *owner, const char *except, LodgeUsage *ret_usage,
                      GError **error)
{
  memset (ret_usage, 0, sizeof *ret_usage);
  Counting c = { ctl, ret_usage };
  return each_own (ctl, owner, except, count, &c, error);
}

/* "2 GiB" for memory and disk, "2" for the rest. */
static char *
amount (LodgeQuota q, gint64 v)
{
  if (q == LODGE_QUOTA_MEMORY || q == LODGE_QUOTA_DISK)
    return lodge_units_format ((guint64) v);
  return g_strdup_printf ("%" G_GINT64_FORMAT, v);
}

/* Whether @used plus @more of quota @q fits @customer's; @used < 0: the
 * VE alone (@more) must fit. */
static gboolean
fits (const LodgeUser *customer, LodgeQuota q, gint64 used, gint64 more, const char *name,
      const char *when, GError **error)
{
  gint64 limit = customer->quota[q];
  if (limit == LODGE_QUOTA_NONE || MAX (used, 0) + more <= limit)
    return TRUE;
  g_autofree char *u = amount (q, MAX (used, 0)), *m = amount (q, more), *l = amount (q, limit);
  g_autofree char *in_use
    = used < 0 ? g_strdup_printf ("%s for this VE alone", m)
               : g_strdup_printf ("%s in use%s, %s more", u,
                                  q == LODGE_QUOTA_VCPUS || q == LODGE_QUOTA_MEMORY ? " by running VEs" : "",
                                  m);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_QUOTA,
               "%s %s would take %s past the quota of %s: %s, %s allowed "
               "(an admin changes it with 'lodge user set')",
               when, name, customer->name, lodge_quota_to_string (q), in_use, l);
  return FALSE;
}

static gboolean
listed (GStrv list, const char *name)
{
  return list != NULL && g_strv_contains ((const char *const *) list, name);
}

/* "a, b and c", or "none". */
static char *
names (GStrv list)
{
  guint n = list != NULL ? g_strv_length (list) : 0;
  if (n == 0)
    return g_strdup ("none");
  if (n == 1)
    return g_strdup (list[0]);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", list[i]);
  return g_string_free (s, FALSE);
}

gboolean
lodge_customer_check_define (LodgeCtl *ctl, const LodgeUser *customer, LodgeEnvDef *def,
                             GError **error)
{
  const char *who = customer->name;
  if (def->owner != NULL && strcmp (def->owner, who) != 0)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_FORBIDDEN,
                   "environment %s: <owner> is %s; %s defines only its own VEs (<owner>%s</owner>, "
                   "or none)", def->name, def->owner, who, who);
      return FALSE;
    }
  if (def->has_priority)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_FORBIDDEN,
                   "environment %s: <priority> is the provider's to set; leave it out", def->name);
      return FALSE;
    }
  if (!listed (customer->templates, def->template_name))
    {
      g_autofree char *allowed = names (customer->templates);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_FORBIDDEN,
                   "environment %s: %s may not use the template %s (allowed: %s)", def->name, who,
                   def->template_name, allowed);
      return FALSE;
    }
  for (guint i = 0; i < def->applications->len; i++)
    {
      LodgeEnvApplication *app = def->applications->pdata[i];
      const char *source = app->source_template != NULL ? app->source_template : app->name;
      if (!listed (customer->applications, source))
        {
          g_autofree char *allowed = names (customer->applications);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_FORBIDDEN,
                       "environment %s: %s may not use the application %s (allowed: %s)", def->name,
                       who, source, allowed);
          return FALSE;
        }
    }
  LodgeUsage usage;
  if (!lodge_customer_usage (ctl, who, def->name, &usage, error))
    return FALSE;
  if (!fits (customer, LODGE_QUOTA_ENVIRONMENTS, usage.used[LODGE_QUOTA_ENVIRONMENTS], 1,
             def->name, "defining", error)
      || !fits (customer, LODGE_QUOTA_DISK, usage.used[LODGE_QUOTA_DISK], (gint64) def->disk,
                def->name, "defining", error)
      || !fits (customer, LODGE_QUOTA_VCPUS, -1, def->vcpus, def->name, "defining", error)
      || !fits (customer, LODGE_QUOTA_MEMORY, -1, (gint64) def->memory, def->name, "defining", error))
    return FALSE;
  g_free (def->owner);
  def->owner = g_strdup (who);
  return TRUE;
}

gboolean
lodge_customer_check_start (LodgeCtl *ctl, const LodgeUser *customer, const char *name,
                            GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (LodgeEnvDef) def = load (ctl, name, &local);
  if (def == NULL)
    {
      if (local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        set_unknown (error, name);
      return FALSE;
    }
  LodgeUsage usage;
  return lodge_customer_usage (ctl, customer->name, name, &usage, error)
         && fits (customer, LODGE_QUOTA_VCPUS, usage.used[LODGE_QUOTA_VCPUS], def->vcpus, name,
                  "starting", error)
         && fits (customer, LODGE_QUOTA_MEMORY, usage.used[LODGE_QUOTA_MEMORY],
                  (gint64) def->memory, name, "starting", error);
}

GMutex *
lodge_customer_lock (const char *owner)
{
  static GMutex lock;
  static GHashTable *locks; /* owner -> GMutex */
  g_mutex_lock (&lock);
  if (locks == NULL)
    locks = g_hash_table_new (g_str_hash, g_str_equal);
  GMutex *m = g_hash_table_lookup (locks, owner);
  if (m == NULL)
    {
      m = g_new0 (GMutex, 1);
      g_mutex_init (m);
      g_hash_table_insert (locks, g_strdup (owner), m);
    }
  g_mutex_unlock (&lock);
  return m;
}
