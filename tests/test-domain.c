/* Domain XML generation: golden outputs, placement checks, MAC addresses. */
#include <string.h>

#include "lodge-domain.h"
#include "lodge-error.h"
#include "lodge-guest-config.h"
#include "lib/lodge-golden.h"

static const char *const domain_outputs[] = { ".domain.xml", ".guestconfig", ".placement", NULL };

/* Placeholder facts, overridden by the keys of <case>.placement; an empty
 * value unsets an optional fact. */
static LodgePlacement *
load_placement (const LodgeEnvDef *def, const char *path)
{
  LodgePlacement *p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return p;

  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);

  struct {
    const char *key;
    char **field;
  } strings[] = {
    { "uuid", &p->uuid },
    { "kernel", &p->kernel },
    { "initrd", &p->initrd },
    { "cmdline", &p->cmdline },
    { "rbd_pool", &p->rbd_pool },
    { "rbd_image", &p->rbd_image },
    { "ceph_user", &p->ceph_user },
    { "ceph_secret_uuid", &p->ceph_secret_uuid },
    { "ceph_conf", &p->ceph_conf },
    { "bridge", &p->bridge },
    { "config_file", &p->config_file },
    { "console_log", &p->console_log },
  };
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      char *v = g_key_file_get_string (kf, "placement", strings[i].key, NULL);
      if (v == NULL)
        continue;
      g_free (*strings[i].field);
      *strings[i].field = *v != '\0' ? v : (g_free (v), NULL);
    }
  g_autofree char *accel = g_key_file_get_string (kf, "placement", "accel", NULL);
  if (accel != NULL)
    {
      p->accel = lodge_accel_from_string (accel);
      g_assert_cmpint (p->accel, >=, 0);
    }
  if (g_key_file_has_key (kf, "placement", "ceph_monitors", NULL))
    {
      g_strfreev (p->ceph_monitors);
      p->ceph_monitors =
        g_key_file_get_string_list (kf, "placement", "ceph_monitors", NULL, &error);
      g_assert_no_error (error);
    }
  if (g_key_file_has_key (kf, "placement", "tb_cache_mib", NULL))
    p->tb_cache_mib = g_key_file_get_integer (kf, "placement", "tb_cache_mib", NULL);
  return p;
}

static void
test_golden_case (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "domain", NULL);
  g_autofree char *input = g_strconcat (dir, "/", name, ".xml", NULL);
  g_autofree char *placement_path = g_strconcat (dir, "/", name, ".placement", NULL);
  g_autofree char *output = g_strconcat (dir, "/", name, ".domain.xml", NULL);

  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (input, &error);
  g_assert_no_error (error);
  g_autoptr (LodgePlacement) p = load_placement (def, placement_path);
  g_autofree char *xml = lodge_domain_xml_generate (def, p, &error);
  g_assert_no_error (error);
  lodge_golden_assert (output, xml);

  /* The blob the guest gets through fw_cfg, next to the domain. */
  g_autofree char *config_path = g_strconcat (dir, "/", name, ".guestconfig", NULL);
  g_autofree char *config = lodge_guest_config_format (def, &error);
  g_assert_no_error (error);
  lodge_golden_assert (config_path, config);
}

static LodgeEnvDef *
load_example (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", name, NULL);
  g_autoptr (GError) error = NULL;
  LodgeEnvDef *def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);
  return def;
}

static void
assert_placement_error (const LodgeEnvDef *def, LodgePlacement *p, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = lodge_domain_xml_generate (def, p, &error);
  g_assert_null (xml);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_placement_errors (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  g_autoptr (LodgePlacement) p = NULL;

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_clear_pointer (&p->kernel, g_free);
  assert_placement_error (def, p, "placement: kernel is missing");
  g_clear_pointer (&p, lodge_placement_free);

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_free (p->config_file);
  p->config_file = g_strdup ("relative/config");
  assert_placement_error (def, p, "placement: path 'relative/config' is not absolute");
  g_clear_pointer (&p, lodge_placement_free);

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_strfreev (p->ceph_monitors);
  p->ceph_monitors = g_strsplit ("127.0.0.1:6789,mon2", ",", -1);
  assert_placement_error (def, p, "placement: Ceph monitor 'mon2' is not host:port");
  g_clear_pointer (&p, lodge_placement_free);

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_strfreev (p->ceph_monitors);
  p->ceph_monitors = g_new0 (char *, 1);
  assert_placement_error (def, p, "placement: no Ceph monitor address");
  g_clear_pointer (&p, lodge_placement_free);

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_free (p->rbd_image);
  p->rbd_image = g_strdup ("x@snap");
  assert_placement_error (def, p,
                          "placement: RBD pool/image 'lodge-r3/x@snap' may not contain '/' or '@'");
  g_clear_pointer (&p, lodge_placement_free);

  p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  p->uuid = g_strdup ("not-a-uuid");
  assert_placement_error (def, p, "placement: 'not-a-uuid' is not a UUID");
}

static void
test_accel (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  g_autoptr (GError) error = NULL;

  g_autoptr (LodgePlacement) tcg = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_autofree char *tcg_xml = lodge_domain_xml_generate (def, tcg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (tcg_xml, "<domain type=\"qemu\">"));
  g_assert_nonnull (strstr (tcg_xml, "<tb-cache unit=\"MiB\">256</tb-cache>"));
  g_assert_null (strstr (tcg_xml, "host-passthrough"));

  g_autoptr (LodgePlacement) kvm = lodge_placement_new_placeholder (def, LODGE_ACCEL_KVM);
  kvm->tb_cache_mib = 512; /* meaningless under KVM: must not appear */
  g_autofree char *kvm_xml = lodge_domain_xml_generate (def, kvm, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (kvm_xml, "<domain type=\"kvm\">"));
  g_assert_null (strstr (kvm_xml, "<tcg>"));
  g_assert_nonnull (strstr (kvm_xml, "host-passthrough"));
}

static void
test_mac (void)
{
  g_autoptr (LodgeEnvDef) web = load_example ("web.xml");
  g_autoptr (LodgeEnvDef) shop = load_example ("maximal.xml");
  LodgeEnvInterface *web_eth0 = web->interfaces->pdata[0];
  LodgeEnvInterface *shop_eth0 = shop->interfaces->pdata[0];
  LodgeEnvInterface *shop_eth1 = shop->interfaces->pdata[1];

  /* Defined: kept. */
  g_autofree char *defined = lodge_domain_interface_mac (shop, shop_eth0);
  g_assert_cmpstr (defined, ==, "52:54:00:12:34:56");

  /* Derived: stable, unicast and locally administered, and different per
   * VE and per interface. */
  g_autofree char *a = lodge_domain_interface_mac (web, web_eth0);
  g_autofree char *b = lodge_domain_interface_mac (web, web_eth0);
  g_assert_cmpstr (a, ==, b);
  g_assert_true (g_str_has_prefix (a, "52:54:"));
  g_assert_cmpuint (strlen (a), ==, 17);
  g_autofree char *c = lodge_domain_interface_mac (shop, shop_eth1);
  g_assert_cmpstr (a, !=, c);
  g_free (web_eth0->name);
  web_eth0->name = g_strdup ("eth1");
  g_autofree char *d = lodge_domain_interface_mac (web, web_eth0);
  g_assert_cmpstr (a, !=, d);
}

static void
test_escaping (void)
{
  /* Values from the definition and the placement reach libvirt escaped. */
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  g_free (def->description);
  def->description = g_strdup ("</description><devices><hostdev/></devices>");
  g_autoptr (LodgePlacement) p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_free (p->cmdline);
  p->cmdline = g_strdup ("console=ttyS0 </cmdline><initrd>/etc/shadow</initrd>");
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = lodge_domain_xml_generate (def, p, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (xml, "<hostdev"));
  g_assert_null (strstr (xml, "<initrd>"));
  g_assert_nonnull (strstr (xml, "&lt;/cmdline&gt;"));
}

static void
test_guest_config_limits (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  /* A hand-built definition with a line break cannot add a line. */
  g_free (def->hostname);
  def->hostname = g_strdup ("web1\nroot-password-hash x");
  g_autoptr (GError) error = NULL;
  g_autofree char *config = lodge_guest_config_format (def, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (config, "\nhostname web1 root-password-hash x\n"));

  /* Too large: refused, naming the VE. */
  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (def->authorized_keys, g_strnfill (400, 'k'));
  g_autofree char *big = lodge_guest_config_format (def, &error);
  g_assert_null (big);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "the configuration of VE web1 is"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  lodge_golden_add_tests ("domain", "domain", domain_outputs, test_golden_case);
  g_test_add_func ("/domain/placement-errors", test_placement_errors);
  g_test_add_func ("/domain/accel", test_accel);
  g_test_add_func ("/domain/mac", test_mac);
  g_test_add_func ("/domain/escaping", test_escaping);
  g_test_add_func ("/domain/guest-config-limits", test_guest_config_limits);
  return g_test_run ();
}
