/* bench-nwfilter URI TAP RUNS: what a VE's network filter costs libvirt
 * at a start and a stop. Defines Lodge's filters the way every node's
 * agent does (lodge_libvirt_define_filters), then binds a filter to the
 * port TAP and removes the binding again, RUNS times each, alternating
 * Lodge's filter with the baseline: libvirt's stock clean-traffic (what
 * Lodge's filter was built on until issue 20), with the same parameters.
 * Prints medians in ms and the ratio. bench/run-nwfilter.sh runs it
 * against a libvirtd of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lodge-domain.h"
#include "lodge-nwfilter.h"

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *a)
{
  g_array_sort (a, cmp_double);
  return a->len % 2 ? g_array_index (a, double, a->len / 2)
                    : (g_array_index (a, double, a->len / 2 - 1) + g_array_index (a, double, a->len / 2)) / 2;
}

static char *
binding_xml (const char *tap, const char *filter)
{
  return g_strdup_printf ("<filterbinding>\n"
                          "  <owner><name>bench</name><uuid>8f2b3c7e-1d54-4c2a-9f0e-3a6b5c4d2e10</uuid></owner>\n"
                          "  <portdev name='%s'/>\n"
                          "  <mac address='52:54:00:6c:0d:01'/>\n"
                          "  <filterref filter='%s'>\n"
                          "    <parameter name='CTRL_IP_LEARNING' value='none'/>\n"
                          "    <parameter name='MAC' value='52:54:00:6c:0d:01'/>\n"
                          "    <parameter name='IP' value='10.77.0.10'/>\n"
                          "  </filterref>\n"
                          "</filterbinding>\n",
                          tap, filter);
}

/* Binds @filter to @tap and removes the binding; the times in ms. */
static void
bind_once (virConnectPtr conn, const char *tap, const char *filter, double *bind_ms,
           double *unbind_ms)
{
  g_autofree char *xml = binding_xml (tap, filter);
  gint64 t0 = g_get_monotonic_time ();
  virNWFilterBindingPtr b = virNWFilterBindingCreateXML (conn, xml, 0);
  gint64 t1 = g_get_monotonic_time ();
  if (b == NULL)
    {
      g_printerr ("bench-nwfilter: cannot bind %s to %s: %s\n", filter, tap,
                  virGetLastErrorMessage ());
      exit (1);
    }
  if (virNWFilterBindingDelete (b) < 0)
    {
      g_printerr ("bench-nwfilter: cannot remove the binding of %s: %s\n", filter,
                  virGetLastErrorMessage ());
      exit (1);
    }
  gint64 t2 = g_get_monotonic_time ();
  virNWFilterBindingFree (b);
  *bind_ms = (t1 - t0) / 1000.0;
  *unbind_ms = (t2 - t1) / 1000.0;
}

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      g_printerr ("usage: bench-nwfilter URI TAP RUNS\n");
      return 2;
    }
  const char *uri = argv[1], *tap = argv[2];
  int runs = atoi (argv[3]);
  if (runs < 1)
    {
      g_printerr ("bench-nwfilter: RUNS must be a positive number, not '%s'\n", argv[3]);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (uri, &error);
  if (lv == NULL || !lodge_libvirt_define_filters (lv, &error))
    {
      g_printerr ("bench-nwfilter: %s\n", error->message);
      return 1;
    }
  virConnectPtr conn = virConnectOpen (uri);
  if (conn == NULL)
    {
      g_printerr ("bench-nwfilter: cannot connect to %s: %s\n", uri, virGetLastErrorMessage ());
      return 1;
    }
  const char *filters[] = { "clean-traffic", LODGE_NWFILTER };
  GArray *bind[2], *unbind[2];
  for (int f = 0; f < 2; f++)
    {
      bind[f] = g_array_new (FALSE, FALSE, sizeof (double));
      unbind[f] = g_array_new (FALSE, FALSE, sizeof (double));
    }
  for (int i = 0; i < runs; i++)
    for (int k = 0; k < 2; k++)
      {
        int f = (i + k) % 2; /* alternated, each first in every other run */
        double b, u;
        bind_once (conn, tap, filters[f], &b, &u);
        g_array_append_val (bind[f], b);
        g_array_append_val (unbind[f], u);
      }
  double base_b = median (bind[0]), base_u = median (unbind[0]);
  printf ("| filter, %d runs each, alternated | bind (start), median ms | ratio | unbind (stop), median ms | ratio |\n",
          runs);
  printf ("| --- | ---: | ---: | ---: | ---: |\n");
  for (int f = 0; f < 2; f++)
    {
      double b = median (bind[f]), u = median (unbind[f]);
      printf ("| %s%s | %.0f | %.2f | %.0f | %.2f |\n", filters[f],
              f == 0 ? " (libvirt's stock filter: the baseline)" : " (Lodge's)", b, b / base_b, u,
              u / base_u);
      g_array_free (bind[f], TRUE);
      g_array_free (unbind[f], TRUE);
    }
  virConnectClose (conn);
  return 0;
}
