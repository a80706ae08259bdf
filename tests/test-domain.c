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
  g_assert_nonnull (strstr (tcg_xml, "<tb-cache unit=\"MiB\">16</tb-cache>"));
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

/* ---- the destination XML of a migration ---- */

/* Another node's facts: everything a node has of its own differs. */
static LodgePlacement *
other_node (const LodgeEnvDef *def, gboolean with_extras)
{
  LodgePlacement *p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_free (p->kernel);
  p->kernel = g_strdup ("/usr/lib/lodge/node2/vmlinuz-lodge");
  g_free (p->initrd);
  p->initrd = with_extras ? g_strdup ("/usr/lib/lodge/node2/initrd.img") : NULL;
  g_strfreev (p->ceph_monitors);
  p->ceph_monitors = g_strsplit ("10.9.0.1:6789,[fd00::2]:3300", ",", -1);
  g_free (p->ceph_user);
  p->ceph_user = g_strdup ("node2");
  g_free (p->ceph_secret_uuid);
  p->ceph_secret_uuid = g_strdup ("6f1c2a9e-0b1d-4c55-9a43-1f0e2d3c4b5a");
  g_free (p->ceph_conf);
  p->ceph_conf = with_extras ? g_strdup ("/etc/ceph/node2.conf") : NULL;
  g_free (p->bridge);
  p->bridge = g_strdup ("vebr2");
  g_free (p->config_file);
  p->config_file = g_strdup ("/var/lib/lodge/node2/web1/config");
  g_free (p->console_log);
  p->console_log = with_extras ? g_strdup ("/var/log/lodge/node2/web1.log") : NULL;
  return p;
}

/* A domain Lodge generated for one node, retargeted to another, is what
 * Lodge would generate for that other node: in both directions, with
 * optional facts (initrd, Ceph configuration, console log) coming and
 * going. */
static void
test_retarget_generated (void)
{
  const char *examples[] = { "web.xml", "maximal.xml" };
  for (guint i = 0; i < G_N_ELEMENTS (examples); i++)
    for (int extras = 0; extras < 2; extras++)
      {
        g_autoptr (LodgeEnvDef) def = load_example (examples[i]);
        g_autoptr (LodgePlacement) a = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
        g_autoptr (LodgePlacement) b = other_node (def, extras);
        g_autoptr (GError) error = NULL;
        g_autofree char *xml_a = lodge_domain_xml_generate (def, a, &error);
        g_autofree char *xml_b = lodge_domain_xml_generate (def, b, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (xml_a, !=, xml_b);
        g_autofree char *a_to_b = lodge_domain_xml_retarget (xml_a, strlen (xml_a), b, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (a_to_b, ==, xml_b);
        g_autofree char *b_to_a = lodge_domain_xml_retarget (xml_b, strlen (xml_b), a, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (b_to_a, ==, xml_a);
      }
}

/* A node whose libvirt has no CPU cgroup gets the domain without
 * <cputune> (it would refuse it), and otherwise the same. */
static void
test_retarget_no_cpu_cgroup (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("maximal.xml");
  g_autoptr (LodgePlacement) a = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_autoptr (LodgePlacement) b = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  b->cpu_tuning = FALSE;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml_a = lodge_domain_xml_generate (def, a, &error);
  g_autofree char *xml_b = lodge_domain_xml_generate (def, b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (xml_a, "<cputune>"));
  g_assert_null (strstr (xml_b, "<cputune>"));
  g_autofree char *a_to_b = lodge_domain_xml_retarget (xml_a, strlen (xml_a), b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a_to_b, ==, xml_b);
}

/* A guest boots with its floor, or with an eighth of its memory and
 * 32 MiB where that is more (never more than its memory): the domain's
 * <currentMemory>, while the metadata keeps the floor for the agent. */
static void
test_boot_memory (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  const struct {
    guint64 memory_mib, floor_mib, boot_mib;
  } cases[] = {
    { 1024, 64, 160 },   /* the floor alone ran out of memory booting */
    { 256, 64, 64 },     /* an eighth and 32 MiB is the floor */
    { 256, 128, 128 },   /* the floor is more */
    { 2048, 1024, 1024 },
    { 64, 0, 64 },       /* no floor: all of it */
    { 4096, 128, 544 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      def->memory = cases[i].memory_mib << 20;
      def->current_memory = cases[i].floor_mib << 20;
      g_assert_cmpuint (lodge_domain_boot_memory (def) >> 20, ==, cases[i].boot_mib);
    }
  def->memory = 1024 << 20;
  def->current_memory = 64 << 20;
  g_autoptr (LodgePlacement) p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = lodge_domain_xml_generate (def, p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (xml, "<currentMemory unit=\"KiB\">163840</currentMemory>"));
  g_assert_nonnull (strstr (xml, "floor-kib=\"65536\""));
}

/* A VE's memory is offered for merging (KSM) only on a node that merges
 * (lodge-agent --ksm): elsewhere <nosharepages/>. Page sharing is QEMU's
 * own at its start, so a migration takes the new node's: both ways. */
static void
test_page_sharing (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("maximal.xml");
  g_autoptr (LodgePlacement) a = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_autoptr (LodgePlacement) b = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  g_assert_false (a->ksm); /* off unless the node says so */
  b->ksm = TRUE;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml_a = lodge_domain_xml_generate (def, a, &error);
  g_autofree char *xml_b = lodge_domain_xml_generate (def, b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (xml_a, "<memoryBacking>\n    <nosharepages/>\n  </memoryBacking>"));
  g_assert_null (strstr (xml_b, "nosharepages"));
  g_assert_null (strstr (xml_b, "memoryBacking"));
  g_autofree char *a_to_b = lodge_domain_xml_retarget (xml_a, strlen (xml_a), b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a_to_b, ==, xml_b);
  g_autofree char *b_to_a = lodge_domain_xml_retarget (xml_b, strlen (xml_b), a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b_to_a, ==, xml_a);
  g_autofree char *a_to_a = lodge_domain_xml_retarget (xml_a, strlen (xml_a), a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a_to_a, ==, xml_a); /* one <nosharepages/>, not two */
}

/* What libvirt gives for a running domain (VIR_DOMAIN_XML_MIGRATABLE, cut
 * short): its addresses, aliases and defaults stay as they are. */
static const char libvirt_form[] =
  "<domain type='qemu'>\n"
  "  <name>web1</name>\n"
  "  <uuid>0b5a3e52-4b7e-4d0c-9a0e-3f7d4c2b1a09</uuid>\n"
  "  <sysinfo type='fwcfg'>\n"
  "    <entry name='opt/lodge/config' file='/var/lib/lodge/state/web1/config'/>\n"
  "  </sysinfo>\n"
  "  <os>\n"
  "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"
  "    <kernel>/var/lib/lodge/node1/vmlinuz-lodge</kernel>\n"
  "    <cmdline>console=ttyS0 root=/dev/vda</cmdline>\n"
  "  </os>\n"
  "  <devices>\n"
  "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
  "    <disk type='network' device='disk'>\n"
  "      <driver name='qemu' type='raw' cache='writeback' discard='unmap'/>\n"
  "      <auth username='node1'>\n"
  "        <secret type='ceph' uuid='11111111-2222-3333-4444-555555555555'/>\n"
  "      </auth>\n"
  "      <source protocol='rbd' name='lodge-r3/ve-web1' index='1'>\n"
  "        <host name='127.0.0.1' port='6789'/>\n"
  "        <auth username='node1'>\n"
  "          <secret type='ceph' uuid='11111111-2222-3333-4444-555555555555'/>\n"
  "        </auth>\n"
  "      </source>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
  "    </disk>\n"
  "    <interface type='bridge'>\n"
  "      <mac address='52:54:00:aa:bb:cc'/>\n"
  "      <source bridge='lodgebr0'/>\n"
  "      <model type='virtio'/>\n"
  "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
  "    </interface>\n"
  "    <serial type='pty'>\n"
  "      <log file='/var/lib/lodge/state/web1/console.log' append='on'/>\n"
  "      <target type='isa-serial' port='0'><model name='isa-serial'/></target>\n"
  "    </serial>\n"
  "  </devices>\n"
  "</domain>\n";

static void
test_retarget_libvirt_form (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  g_autoptr (LodgePlacement) b = other_node (def, TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = lodge_domain_xml_retarget (libvirt_form, sizeof libvirt_form - 1, b, &error);
  g_assert_no_error (error);
  const char *present[] = {
    "<kernel>/usr/lib/lodge/node2/vmlinuz-lodge</kernel>\n    <initrd>/usr/lib/lodge/node2/initrd.img</initrd>",
    "<entry name=\"opt/lodge/config\" file=\"/var/lib/lodge/node2/web1/config\"/>",
    "<log file=\"/var/log/lodge/node2/web1.log\" append=\"on\"/>",
    "<host name=\"10.9.0.1\" port=\"6789\"/>",
    "<host name=\"fd00::2\" port=\"3300\"/>",
    "<config file=\"/etc/ceph/node2.conf\"/>",
    "<auth username=\"node2\">",
    "<secret type=\"ceph\" uuid=\"6f1c2a9e-0b1d-4c55-9a43-1f0e2d3c4b5a\"/>",
    "<source bridge=\"vebr2\"/>",
    /* kept as the guest has them */
    "<uuid>0b5a3e52-4b7e-4d0c-9a0e-3f7d4c2b1a09</uuid>",
    "machine=\"pc-q35-7.2\"",
    "<mac address=\"52:54:00:aa:bb:cc\"/>",
    "<address type=\"pci\" domain=\"0x0000\" bus=\"0x03\" slot=\"0x00\" function=\"0x0\"/>",
    "<address type=\"pci\" domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>",
    "<source protocol=\"rbd\" name=\"lodge-r3/ve-web1\" index=\"1\">",
    "<model name=\"isa-serial\"/>",
  };
  for (guint i = 0; i < G_N_ELEMENTS (present); i++)
    if (strstr (xml, present[i]) == NULL)
      g_error ("'%s' missing from:\n%s", present[i], xml);
  const char *absent[] = { "node1", "127.0.0.1", "lodgebr0", "/var/lib/lodge/state", "1111" };
  for (guint i = 0; i < G_N_ELEMENTS (absent); i++)
    if (strstr (xml, absent[i]) != NULL)
      g_error ("'%s' left in:\n%s", absent[i], xml);
}

static void
test_retarget_refused (void)
{
  g_autoptr (LodgeEnvDef) def = load_example ("web.xml");
  g_autoptr (LodgePlacement) b = other_node (def, FALSE);
  const struct {
    const char *xml;
    const char *says;
  } cases[] = {
    { "<domain><os><kernel>/k</kernel></os><devices/></domain>", "no fw_cfg entry opt/lodge/config" },
    { "<domain><sysinfo type='fwcfg'><entry name='opt/lodge/config' file='/c'/></sysinfo>"
      "<devices/></domain>", "no <os><kernel>" },
    { "<domain><sysinfo type='fwcfg'><entry name='opt/lodge/config' file='/c'/></sysinfo>"
      "<os><kernel>/k</kernel></os><devices><disk type='file'/></devices></domain>", "no RBD disk" },
    { "<domain", "the running domain's XML" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *xml = lodge_domain_xml_retarget (cases[i].xml, strlen (cases[i].xml), b, &error);
      g_assert_null (xml);
      g_assert_nonnull (error);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("for %s: '%s' lacks '%s'", cases[i].xml, error->message, cases[i].says);
    }
  /* Facts that are not a placement are refused before the XML is read. */
  g_clear_pointer (&b->kernel, g_free);
  g_autoptr (GError) error = NULL;
  g_assert_null (lodge_domain_xml_retarget (libvirt_form, sizeof libvirt_form - 1, b, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
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
  g_test_add_func ("/domain/retarget-no-cpu-cgroup", test_retarget_no_cpu_cgroup);
  g_test_add_func ("/domain/page-sharing", test_page_sharing);
  g_test_add_func ("/domain/boot-memory", test_boot_memory);
  g_test_add_func ("/domain/retarget/generated", test_retarget_generated);
  g_test_add_func ("/domain/retarget/libvirt-form", test_retarget_libvirt_form);
  g_test_add_func ("/domain/retarget/refused", test_retarget_refused);
  return g_test_run ();
}
