#include "lodge-balloon.h"

#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lodge-domain.h"
#include "lodge-libvirt-private.h"
#include "lodge-xml.h"

#define MIB (1ULL << 20)

void
lodge_balloon_guest_free (LodgeBalloonGuest *g)
{
  if (g == NULL)
    return;
  g_free (g->name);
  g_free (g);
}

static guint64
round_mib (guint64 bytes)
{
  return bytes / MIB * MIB;
}

static gint
by_growth (gconstpointer a, gconstpointer b)
{
  const LodgeBalloonGuest *x = *(LodgeBalloonGuest *const *) a;
  const LodgeBalloonGuest *y = *(LodgeBalloonGuest *const *) b;
  guint64 gx = x->next > x->floor ? x->next - x->floor : 0;
  guint64 gy = y->next > y->floor ? y->next - y->floor : 0;
  return gx < gy ? 1 : gx > gy ? -1 : g_strcmp0 (x->name, y->name);
}

guint
lodge_balloon_plan (GPtrArray *guests, guint64 budget)
{
  guint64 used = 0;
  for (guint i = 0; i < guests->len; i++)
    {
      LodgeBalloonGuest *g = guests->pdata[i];
      g->next = g->actual;
      g->why = NULL;
      used += g->actual;
    }

  /* Over the budget (a VE came, by start, migration or failover, onto a
   * node whose guests had grown): the most grown give back first. */
  if (used > budget)
    {
      /* (Not g_ptr_array_copy(): the copy would free the guests.) */
      g_autoptr (GPtrArray) order = g_ptr_array_sized_new (guests->len);
      for (guint i = 0; i < guests->len; i++)
        g_ptr_array_add (order, guests->pdata[i]);
      g_ptr_array_sort (order, by_growth);
      for (guint i = 0; i < order->len && used > budget; i++)
        {
          LodgeBalloonGuest *g = order->pdata[i];
          if (g->next <= g->floor)
            continue;
          guint64 give = MIN (used - budget, g->next - g->floor);
          g->next = MAX (g->floor, round_mib (g->next - give));
          used -= g->actual - g->next;
          g->why = "the node is over its memory";
        }
    }

  for (guint i = 0; i < guests->len; i++)
    {
      LodgeBalloonGuest *g = guests->pdata[i];
      /* More usable than it has: the guest counts memory its balloon has
       * not given back yet (a booting guest, its balloon still on the way
       * to the boot target). Not idle: shrinking it on that count starved
       * a booting 1 GiB guest to 72 MiB (integration/overcommit, OOM). */
      if (g->why != NULL || g->usable == G_MAXUINT64 || g->usable > g->actual)
        continue;
      /* Idle above the floor: half of what it does not use goes back. */
      if (g->actual > g->floor && g->usable > g->actual / 2)
        {
          g->next = MAX (g->floor, round_mib (g->actual - g->usable / 2));
          if (g->next < g->actual)
            {
              used -= g->actual - g->next;
              g->why = "idle";
            }
        }
    }

  for (guint i = 0; i < guests->len; i++)
    {
      LodgeBalloonGuest *g = guests->pdata[i];
      if (g->why != NULL || g->usable == G_MAXUINT64 || g->actual >= g->ceiling
          || g->usable >= g->actual / 8 || used >= budget)
        continue;
      /* Under pressure: grows out of what the node has free. */
      guint64 grant = MAX (LODGE_BALLOON_MIN_STEP, g->actual / 2);
      grant = MIN (grant, g->ceiling - g->actual);
      grant = round_mib (MIN (grant, budget - used));
      if (grant < MIB)
        continue;
      g->next = g->actual + grant;
      used += grant;
      g->why = "under memory pressure";
    }

  guint changes = 0;
  for (guint i = 0; i < guests->len; i++)
    {
      LodgeBalloonGuest *g = guests->pdata[i];
      changes += g->next != g->actual;
      if (g->next == g->actual)
        g->why = NULL;
    }
  return changes;
}

/* The floor in the domain's Lodge metadata; FALSE: not a VE's domain. */
static gboolean
read_floor (virDomainPtr dom, guint64 *ret)
{
  g_autofree char *meta = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT,
                                                LODGE_METADATA_NS, VIR_DOMAIN_AFFECT_LIVE);
  if (meta == NULL)
    {
      virResetLastError ();
      return FALSE;
    }
  g_autoptr (xmlDoc) doc = lodge_xml_parse (meta, strlen (meta), "metadata", NULL);
  if (doc == NULL)
    return FALSE;
  g_autofree char *kib = lodge_xml_prop (xmlDocGetRootElement (doc), "floor-kib");
  guint64 v;
  if (kib == NULL || !g_ascii_string_to_unsigned (kib, 10, 1, G_MAXUINT64 >> 10, &v, NULL))
    return FALSE;
  *ret = v << 10;
  return TRUE;
}

GPtrArray *
lodge_libvirt_balloon_guests (LodgeLibvirt *lv, GError **error)
{
  virDomainPtr *doms = NULL;
  int n = virConnectListAllDomains (lv->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0)
    {
      lodge_libvirt_fail (lv, error, "cannot list the running domains");
      return NULL;
    }
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_balloon_guest_free);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (virDomain) dom = doms[i];
      guint64 floor;
      if (!read_floor (dom, &floor))
        continue;
      virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
      int k = virDomainMemoryStats (dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
      unsigned long max_kib = virDomainGetMaxMemory (dom);
      if (k < 0 || max_kib == 0)
        {
          virResetLastError (); /* gone meanwhile */
          continue;
        }
      LodgeBalloonGuest *g = g_new0 (LodgeBalloonGuest, 1);
      g->name = g_strdup (virDomainGetName (dom));
      g->floor = floor;
      g->ceiling = (guint64) max_kib << 10;
      g->actual = g->ceiling;
      g->usable = G_MAXUINT64;
      guint64 unused = G_MAXUINT64;
      for (int j = 0; j < k; j++)
        if (stats[j].tag == VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON)
          g->actual = stats[j].val << 10;
        else if (stats[j].tag == VIR_DOMAIN_MEMORY_STAT_USABLE)
          g->usable = stats[j].val << 10;
        else if (stats[j].tag == VIR_DOMAIN_MEMORY_STAT_UNUSED)
          unused = stats[j].val << 10;
      if (g->usable == G_MAXUINT64)
        g->usable = unused;
      g->next = g->actual;
      g_ptr_array_add (out, g);
    }
  free (doms);
  return out;
}

gboolean
lodge_libvirt_balloon_set (LodgeLibvirt *lv, const char *name, guint64 bytes, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  if (virDomainSetMemoryFlags (dom, bytes >> 10, VIR_DOMAIN_AFFECT_LIVE) < 0)
    return lodge_libvirt_fail (lv, error, "cannot set the memory of %s", name);
  return TRUE;
}
