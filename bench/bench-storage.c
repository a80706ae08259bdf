/* bench-storage: clone time against template size, state-store reads and
 * compare-and-set writes per second, template import throughput. Run
 * inside a cluster's namespace (bench/run-storage.sh does it all).
 * Figures are medians; each has a baseline measured in the same run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <rbd/librbd.h>

#include "lodge-disk.h"
#include "lodge-rados-private.h"
#include "lodge-rbd.h"
#include "lodge-store.h"
#include "lodge-template.h"
#include "lodge-tier.h"

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
  return g_array_index (a, double, a->len / 2);
}

static void
die (GError *error)
{
  g_printerr ("bench-storage: %s\n", error->message);
  exit (1);
}

/* Writes @fill bytes of pseudo-random data at the start of the image. */
static void
fill_image (LodgeRados *rados, const char *pool, const char *image, guint64 fill)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (rados, pool, NULL, &error);
  if (io == NULL)
    die (error);
  rbd_image_t img;
  if (rbd_open (io->io, image, &img, NULL) < 0)
    g_error ("cannot open %s", image);
  gsize chunk = 4 << 20;
  g_autofree guint32 *buf = g_new (guint32, chunk / 4);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  for (guint64 off = 0; off < fill; off += chunk)
    {
      for (gsize i = 0; i < chunk / 4; i++)
        buf[i] = g_rand_int (rand);
      if (rbd_write (img, off, chunk, (char *) buf) != (ssize_t) chunk)
        g_error ("write failed");
    }
  rbd_flush (img);
  rbd_close (img);
}

static void
bench_clone (LodgeRados *rados, guint runs, guint64 fill_limit)
{
  const guint64 sizes[] = { 64ULL << 20, 1ULL << 30, 4ULL << 30 };
  const char *names[] = { "64 MiB", "1 GiB", "4 GiB" };
  double medians[G_N_ELEMENTS (sizes)];
  g_autoptr (GError) error = NULL;
  if (!lodge_tier_ensure_templates (rados, &error) || !lodge_tier_ensure (rados, 1, &error))
    die (error);

  printf ("| template | data written | clone + grow to 8 GiB (ms, median of %u) | ratio to 64 MiB |\n"
          "|---|---|---|---|\n", runs);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autofree char *tmpl = g_strdup_printf ("bench-tmpl-%u", s);
      lodge_rbd_remove (rados, LODGE_TEMPLATE_POOL, tmpl, TRUE, NULL);
      if (!lodge_rbd_create (rados, LODGE_TEMPLATE_POOL, tmpl, sizes[s], &error))
        die (error);
      guint64 fill = MIN (sizes[s], fill_limit);
      fill_image (rados, LODGE_TEMPLATE_POOL, tmpl, fill);
      if (!lodge_rbd_snap_create (rados, LODGE_TEMPLATE_POOL, tmpl, "v-1", TRUE, &error))
        die (error);

      g_autoptr (GArray) t = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint r = 0; r < runs; r++)
        {
          g_autofree char *ve = g_strdup_printf ("bench-%u-%u", s, r);
          gint64 start = g_get_monotonic_time ();
          if (!lodge_disk_create (rados, ve, 1, LODGE_TEMPLATE_POOL, tmpl, "v-1", 8ULL << 30, &error))
            die (error);
          double ms = (g_get_monotonic_time () - start) / 1000.0;
          g_array_append_val (t, ms);
        }
      medians[s] = median (t);
      for (guint r = 0; r < runs; r++)
        {
          g_autofree char *ve = g_strdup_printf ("bench-%u-%u", s, r);
          lodge_disk_delete (rados, ve, 1, NULL);
        }
      lodge_rbd_remove (rados, LODGE_TEMPLATE_POOL, tmpl, TRUE, NULL);
      g_autofree char *filled = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", fill >> 20);
      printf ("| %s | %s | %.1f | %.2f |\n", names[s], filled, medians[s], medians[s] / medians[0]);
    }
}

static void
bench_store (LodgeRados *rados, guint ops)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeStore) store = lodge_store_open (rados, "lodge-bench-state", &error);
  if (store == NULL)
    die (error);
  const char *xml = "<environment><name>bench</name>...a few hundred bytes...</environment>";
  g_autoptr (GBytes) value = g_bytes_new (xml, strlen (xml));
  guint64 version = 0;
  lodge_store_delete (store, LODGE_STORE_ENV, "bench", 0, NULL);
  if (!lodge_store_create (store, LODGE_STORE_ENV, "bench", value, &version, &error))
    die (error);

  /* Baseline: a bare librados read of the same object. */
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (rados, "lodge-bench-state", "env", &error);
  g_autoptr (GArray) raw = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) reads = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) writes = g_array_new (FALSE, FALSE, sizeof (double));
  char buf[4096];
  for (guint i = 0; i < ops; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      rados_read (io->io, "bench", buf, sizeof buf, 0);
      gint64 t1 = g_get_monotonic_time ();
      g_autoptr (GBytes) got = lodge_store_get (store, LODGE_STORE_ENV, "bench", &version, &error);
      gint64 t2 = g_get_monotonic_time ();
      if (got == NULL || !lodge_store_update (store, LODGE_STORE_ENV, "bench", version, value,
                                              &version, &error))
        die (error);
      gint64 t3 = g_get_monotonic_time ();
      double a = (double) (t1 - t0), b = (double) (t2 - t1), c = (double) (t3 - t2);
      g_array_append_val (raw, a);
      g_array_append_val (reads, b);
      g_array_append_val (writes, c);
    }
  double raw_us = median (raw), read_us = median (reads), write_us = median (writes);
  printf ("\n| state store (%u ops each) | median latency (µs) | per second | ratio to bare read |\n"
          "|---|---|---|---|\n", ops);
  printf ("| bare rados_read (baseline) | %.0f | %.0f | 1.00 |\n", raw_us, 1e6 / raw_us);
  printf ("| lodge_store_get | %.0f | %.0f | %.2f |\n", read_us, 1e6 / read_us, read_us / raw_us);
  printf ("| lodge_store_update (CAS + notify) | %.0f | %.0f | %.2f |\n", write_us, 1e6 / write_us,
          write_us / raw_us);
  lodge_store_delete (store, LODGE_STORE_ENV, "bench", 0, NULL);
}

static void
write_random_tree (const char *dir, guint64 total)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  gsize file_size = 256 << 10;
  g_autofree guint32 *buf = g_new (guint32, file_size / 4);
  for (guint64 done = 0, n = 0; done < total; done += file_size, n++)
    {
      for (gsize i = 0; i < file_size / 4; i++)
        buf[i] = g_rand_int (rand);
      g_autofree char *sub = g_strdup_printf ("%s/d%02u", dir, (guint) (n % 16));
      g_mkdir_with_parents (sub, 0755);
      g_autofree char *path = g_strdup_printf ("%s/f%05u", sub, (guint) n);
      g_file_set_contents (path, (char *) buf, file_size, NULL);
    }
}

typedef struct {
  gint64 copy_start, copy_end;
} ImportTimes;

static void
import_progress (LodgeImportStage stage, guint64 done, guint64 total, gpointer user_data)
{
  ImportTimes *t = user_data;
  if (stage == LODGE_IMPORT_COPY && done == 0)
    t->copy_start = g_get_monotonic_time ();
  if (stage == LODGE_IMPORT_COPY && done == total)
    t->copy_end = g_get_monotonic_time ();
}

static void
bench_import (LodgeRados *rados, const char *client_id, guint runs, guint64 tree_bytes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeStore) store = lodge_store_open (rados, NULL, &error);
  if (store == NULL)
    die (error);
  g_autofree char *dir = g_dir_make_tmp ("lodge-bench-tree-XXXXXX", NULL);
  write_random_tree (dir, tree_bytes);
  double mib = tree_bytes / 1048576.0;

  g_autoptr (GArray) total = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) copy = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint r = 0; r < runs; r++)
    {
      lodge_template_delete (store, "bench-import", NULL, NULL);
      ImportTimes t = { 0 };
      gint64 start = g_get_monotonic_time ();
      g_autoptr (LodgeTemplateVersion) v = lodge_template_import (
        store, client_id, "bench-import", dir, NULL, import_progress, &t, &error);
      if (v == NULL)
        die (error);
      double s = (g_get_monotonic_time () - start) / 1e6;
      double c = (t.copy_end - t.copy_start) / 1e6;
      g_array_append_val (total, s);
      g_array_append_val (copy, c);
    }
  lodge_template_delete (store, "bench-import", NULL, NULL);
  double s = median (total), c = median (copy);
  printf ("\n| template import of %.0f MiB (%u runs) | seconds (median) | MiB/s |\n|---|---|---|\n",
          mib, runs);
  printf ("| whole import (pack, image, appliance launch, copy, snapshot) | %.1f | %.1f |\n", s,
          mib / s);
  printf ("| format + unpack inside the appliance | %.1f | %.1f |\n", c, mib / c);
  printf ("| appliance launch and the rest | %.1f | |\n", s - c);
}

int
main (int argc, char **argv)
{
  guint runs = 10, import_runs = 3, ops = 1000;
  guint fill_mib = 256, tree_mib = 64;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Clones per template size (default 10)", "N" },
    { "ops", 0, 0, G_OPTION_ARG_INT, &ops, "State-store operations (default 1000)", "N" },
    { "import-runs", 0, 0, G_OPTION_ARG_INT, &import_runs, "Template imports (default 3)", "N" },
    { "fill-mib", 0, 0, G_OPTION_ARG_INT, &fill_mib,
      "Data written into each template image, at most (default 256)", "MIB" },
    { "tree-mib", 0, 0, G_OPTION_ARG_INT, &tree_mib, "Size of the imported tree (default 64)", "MIB" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_option_context_set_summary (ctx, "Benchmark Lodge's storage layer against the cluster of "
                                     "$CEPH_CONF (run inside its namespace).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || runs < 1 || ops < 1 || import_runs < 1)
    {
      g_printerr ("bench-storage: %s\n", error != NULL ? error->message : "counts must be >= 1");
      return 2;
    }
  g_autoptr (LodgeCephConfig) config = lodge_ceph_config_new_default ();
  g_setenv ("CEPH_CONF", config->conf_path, FALSE);
  g_autoptr (LodgeRados) rados = lodge_rados_connect (config, &error);
  if (rados == NULL)
    die (error);

  bench_clone (rados, runs, (guint64) fill_mib << 20);
  bench_store (rados, ops);
  bench_import (rados, config->client_id, import_runs, (guint64) tree_mib << 20);
  return 0;
}
