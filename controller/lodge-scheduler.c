#include "lodge-scheduler.h"

#include <string.h>

#include "lodge-error.h"
#include "lodge-units.h"

typedef struct {
  guint vcpus;
  guint64 memory, committed;
} Load;

static Load
load_of (const char *node, const LodgeSchedVe *placed, guint n_placed, const char *except)
{
  Load l = { 0 };
  for (guint i = 0; i < n_placed; i++)
    if (g_strcmp0 (placed[i].node, node) == 0 && g_strcmp0 (placed[i].name, except) != 0)
      {
        l.vcpus += placed[i].vcpus;
        l.memory += placed[i].memory;
        l.committed += placed[i].current_memory;
      }
  return l;
}

/* NULL when @ve fits on @n, else why not. */
static char *
why_not (const LodgeSchedNode *n, const Load *l, const LodgeSchedVe *ve)
{
  if (n->state != LODGE_NODE_UP)
    return g_strdup_printf ("%s is %s", n->name, lodge_node_state_to_string (n->state));
  guint64 mem_cap = (guint64) (n->memory * n->memory_ratio);
  if (l->memory + ve->memory > mem_cap)
    {
      g_autofree char *left = lodge_units_format_approx (mem_cap > l->memory ? mem_cap - l->memory : 0);
      g_autofree char *need = lodge_units_format_approx (ve->memory);
      return g_strdup_printf ("%s has %s of guest memory left under its %.1fx overcommit "
                              "(needs %s)",
                              n->name, left, n->memory_ratio, need);
    }
  if (l->committed + ve->current_memory > n->memory)
    {
      g_autofree char *left = lodge_units_format_approx (n->memory > l->committed ? n->memory - l->committed : 0);
      g_autofree char *need = lodge_units_format_approx (ve->current_memory);
      return g_strdup_printf ("%s has %s of RAM left to commit (needs %s)", n->name, left, need);
    }
  guint cpu_cap = (guint) (n->cpus * n->cpu_ratio);
  if (l->vcpus + ve->vcpus > cpu_cap)
    return g_strdup_printf ("%s has %u vCPUs left under its %.1fx overcommit (needs %u)",
                            n->name, cpu_cap > l->vcpus ? cpu_cap - l->vcpus : 0, n->cpu_ratio,
                            ve->vcpus);
  return NULL;
}

const char *
lodge_scheduler_place (const LodgeSchedNode *nodes, guint n_nodes, const LodgeSchedVe *placed,
                       guint n_placed, const LodgeSchedVe *ve, const char *exclude_node,
                       GError **error)
{
  g_return_val_if_fail (ve != NULL, NULL);
  const LodgeSchedNode *best = NULL;
  guint64 best_free = 0;
  g_autoptr (GString) reasons = g_string_new (NULL);

  for (guint i = 0; i < n_nodes; i++)
    {
      const LodgeSchedNode *n = &nodes[i];
      if (g_strcmp0 (n->name, exclude_node) == 0)
        {
          g_string_append_printf (reasons, "%s%s is the node it leaves", reasons->len ? "; " : "",
                                  n->name);
          continue;
        }
      Load l = load_of (n->name, placed, n_placed, ve->name);
      g_autofree char *reason = why_not (n, &l, ve);
      if (reason != NULL)
        {
          g_string_append_printf (reasons, "%s%s", reasons->len ? "; " : "", reason);
          continue;
        }
      guint64 free_mem = n->memory - l.committed - ve->current_memory;
      if (best == NULL || free_mem > best_free
          || (free_mem == best_free && strcmp (n->name, best->name) < 0))
        {
          best = n;
          best_free = free_mem;
        }
    }
  if (best != NULL)
    return best->name;
  if (n_nodes == 0)
    g_string_append (reasons, "the cluster has no nodes");
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_CAPACITY, "no node can run %s: %s", ve->name,
               reasons->str);
  return NULL;
}
