#include "lodge-domain.h"

#include <stdio.h>
#include <string.h>

#include "lodge-error.h"
#include "lodge-xml.h"

LodgePlacement *
lodge_placement_new (void)
{
  return g_new0 (LodgePlacement, 1);
}

void
lodge_placement_free (LodgePlacement *p)
{
  if (p == NULL)
    return;
  g_free (p->uuid);
  g_free (p->kernel);
  g_free (p->initrd);
  g_free (p->firmware);
  g_free (p->cmdline);
  g_free (p->rbd_pool);
  g_free (p->rbd_image);
  g_strfreev (p->ceph_monitors);
  g_free (p->ceph_conf);
  g_free (p->ceph_user);
  g_free (p->ceph_secret_uuid);
  g_free (p->bridge);
  g_free (p->config_file);
  g_free (p->console_log);
  g_free (p);
}

LodgePlacement *
lodge_placement_new_placeholder (const LodgeEnvDef *def, LodgeAccel accel)
{
  g_return_val_if_fail (def != NULL, NULL);

  LodgePlacement *p = lodge_placement_new ();
  lodge_placement_set_accel (p, accel);
  p->kernel = g_strdup ("/var/lib/lodge/kernel/vmlinuz-lodge");
  p->firmware = g_strdup (LODGE_FIRMWARE_QBOOT);
  p->cmdline = g_strdup (LODGE_GUEST_CMDLINE);
  p->rbd_pool = g_strdup_printf ("lodge-r%u", lodge_env_def_effective_replicas (def));
  p->rbd_image = g_strdup_printf ("ve-%s", def->name);
  p->ceph_monitors = g_strsplit ("127.0.0.1:6789", ",", -1);
  p->ceph_user = g_strdup ("lodge");
  p->ceph_secret_uuid = g_strdup ("00000000-0000-4000-8000-000000000000");
  p->bridge = g_strdup ("lodgebr0");
  p->config_file = g_strdup_printf ("/var/lib/lodge/ve/%s/config", def->name);
  p->console_log = g_strdup_printf ("/var/log/lodge/ve/%s/console.log", def->name);
  p->cpu_tuning = TRUE; /* as on a host whose libvirt has its cgroups */
  return p;
}

void
lodge_placement_set_accel (LodgePlacement *p, LodgeAccel accel)
{
  g_return_if_fail (p != NULL);
  p->accel = accel;
  /* TCG's translation cache: 16 MiB. Against QEMU's default (1 GiB
   * mapped, filled as code runs) a guest's PSS is 0.78 of it, and busybox
   * work through much more code than a boot took 1.05 of the time
   * (images/kernel/bench-boot.sh --tb-work, medians of 3). */
  p->tb_cache_mib = accel == LODGE_ACCEL_TCG ? 16 : 0;
}

char *
lodge_domain_interface_mac (const LodgeEnvDef *def, const LodgeEnvInterface *iface)
{
  if (iface->mac != NULL)
    return g_strdup (iface->mac);

  /* 52:54 (QEMU's locally administered prefix) + 32 bits of a hash of the
   * VE and interface names: stable, and unlikely to collide. */
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) "lodge-mac", 10);
  g_checksum_update (sum, (const guchar *) def->name, strlen (def->name) + 1);
  g_checksum_update (sum, (const guchar *) iface->name, strlen (iface->name) + 1);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_checksum_get_digest (sum, digest, &len);
  return g_strdup_printf ("52:54:%02x:%02x:%02x:%02x", digest[0], digest[1], digest[2],
                          digest[3]);
}

/* ---- placement checks ---- */

G_GNUC_PRINTF (2, 3) static gboolean
placement_fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "placement: %s", msg);
  return FALSE;
}

static gboolean
split_host_port (const char *monitor, char **ret_host, char **ret_port)
{
  const char *colon;
  g_autofree char *host = NULL;

  if (monitor[0] == '[')
    {
      const char *close = strchr (monitor, ']');
      if (close == NULL || close[1] != ':')
        return FALSE;
      host = g_strndup (monitor + 1, close - monitor - 1);
      colon = close + 1;
    }
  else
    {
      colon = strrchr (monitor, ':');
      if (colon == NULL)
        return FALSE;
      host = g_strndup (monitor, colon - monitor);
    }
  guint64 port;
  if (*host == '\0' || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return FALSE;
  *ret_host = g_steal_pointer (&host);
  *ret_port = g_strdup (colon + 1);
  return TRUE;
}

static gboolean
placement_check (const LodgePlacement *p, GError **error)
{
  const struct {
    const char *name;
    const char *value;
  } required[] = {
    { "kernel", p->kernel },       { "cmdline", p->cmdline },
    { "rbd_pool", p->rbd_pool },   { "rbd_image", p->rbd_image },
    { "ceph_user", p->ceph_user }, { "ceph_secret_uuid", p->ceph_secret_uuid },
    { "bridge", p->bridge },       { "config_file", p->config_file },
  };
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (required[i].value == NULL || *required[i].value == '\0')
      return placement_fail (error, "%s is missing", required[i].name);

  if (p->accel < 0 || p->accel >= LODGE_ACCEL_LAST)
    return placement_fail (error, "unknown accelerator %d", p->accel);
  if (p->uuid != NULL && !g_uuid_string_is_valid (p->uuid))
    return placement_fail (error, "'%s' is not a UUID", p->uuid);
  if (!g_uuid_string_is_valid (p->ceph_secret_uuid))
    return placement_fail (error, "ceph secret '%s' is not a UUID", p->ceph_secret_uuid);

  const char *paths[] = { p->kernel, p->initrd, p->firmware, p->config_file, p->console_log };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (paths[i] != NULL && !g_path_is_absolute (paths[i]))
      return placement_fail (error, "path '%s' is not absolute", paths[i]);

  if (strchr (p->rbd_pool, '/') != NULL || strchr (p->rbd_image, '/') != NULL
      || strchr (p->rbd_pool, '@') != NULL || strchr (p->rbd_image, '@') != NULL)
    return placement_fail (error, "RBD pool/image '%s/%s' may not contain '/' or '@'",
                           p->rbd_pool, p->rbd_image);

  if (p->ceph_monitors == NULL || p->ceph_monitors[0] == NULL)
    return placement_fail (error, "no Ceph monitor address");
  for (guint i = 0; p->ceph_monitors[i] != NULL; i++)
    {
      g_autofree char *host = NULL, *port = NULL;
      if (!split_host_port (p->ceph_monitors[i], &host, &port))
        return placement_fail (error, "Ceph monitor '%s' is not host:port",
                               p->ceph_monitors[i]);
    }
  return TRUE;
}

/* ---- generation ---- */

static void
add_kib (xmlNode *parent, const char *name, guint64 bytes)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, bytes / 1024);
  xmlNode *n = lodge_xml_add (parent, name, text);
  lodge_xml_set (n, "unit", "KiB");
}

static xmlNode *
add_empty (xmlNode *parent, const char *name)
{
  return lodge_xml_add (parent, name, NULL);
}

static void
add_metadata (xmlNode *dom, const LodgeEnvDef *def)
{
  xmlNode *meta = add_empty (dom, "metadata");
  xmlNode *env = xmlNewChild (meta, NULL, (const xmlChar *) "environment", NULL);
  xmlNs *ns = xmlNewNs (env, (const xmlChar *) LODGE_METADATA_NS, (const xmlChar *) "lodge");
  xmlSetNs (env, ns);
  lodge_xml_set (env, "name", def->name);
  lodge_xml_set (env, "template", def->template_name);
  lodge_xml_set (env, "version", def->template_version);
  g_autofree char *replicas = g_strdup_printf ("%u", lodge_env_def_effective_replicas (def));
  lodge_xml_set (env, "replicas", replicas);
  /* The memory the VE is promised (the scheduler's commitment): the node
   * agent's balloon never takes it below that (virt/lodge-balloon.h). */
  g_autofree char *floor = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                            lodge_env_def_effective_current_memory (def) >> 10);
  lodge_xml_set (env, "floor-kib", floor);
}

static void
remove_children (xmlNode *parent, const char *name)
{
  xmlNode *c = parent->children;
  while (c != NULL)
    {
      xmlNode *next = c->next;
      if (c->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) c->name, name) == 0)
        {
          xmlUnlinkNode (c);
          xmlFreeNode (c);
        }
      c = next;
    }
}

guint64
lodge_domain_boot_memory (const LodgeEnvDef *def)
{
  guint64 floor = lodge_env_def_effective_current_memory (def);
  guint64 need = def->memory / 8 + (32ULL << 20);
  return MIN (def->memory, MAX (floor, need));
}

/* A VE's memory is merged with other VEs' (the kernel's KSM) only on a
 * node that asked for it (lodge-agent --ksm): a VE could tell by timing
 * whether another holds a page it knows. Elsewhere QEMU is told not to
 * offer it for merging (<nosharepages/>: mem-merge=off), whatever the
 * host's ksmd does. */
static void
set_page_sharing (xmlNode *dom, const LodgePlacement *p)
{
  xmlNode *backing = lodge_xml_child (dom, "memoryBacking");
  if (backing != NULL)
    {
      remove_children (backing, "nosharepages");
      if (backing->children == NULL)
        {
          xmlUnlinkNode (backing);
          xmlFreeNode (backing);
          backing = NULL;
        }
    }
  if (p->ksm)
    return;
  if (backing == NULL)
    {
      backing = xmlNewDocNode (dom->doc, NULL, (const xmlChar *) "memoryBacking", NULL);
      xmlNode *current = lodge_xml_child (dom, "currentMemory");
      if (current != NULL)
        xmlAddNextSibling (current, backing);
      else
        xmlAddChild (dom, backing);
    }
  add_empty (backing, "nosharepages");
}

static void
add_os (xmlNode *dom, const LodgePlacement *p)
{
  xmlNode *os = add_empty (dom, "os");
  xmlNode *type = lodge_xml_add (os, "type", "hvm");
  lodge_xml_set (type, "arch", "x86_64");
  lodge_xml_set (type, "machine", "q35");
  /* qboot rather than SeaBIOS: it loads the kernel and QEMU's ACPI tables
   * and nothing else; a boot to ready is 0.86 of SeaBIOS's under TCG
   * (images/kernel/bench-boot.sh --firmware-only). */
  if (p->firmware != NULL)
    lodge_xml_set (lodge_xml_add (os, "loader", p->firmware), "type", "rom");
  lodge_xml_add (os, "kernel", p->kernel);
  if (p->initrd != NULL)
    lodge_xml_add (os, "initrd", p->initrd);
  lodge_xml_add (os, "cmdline", p->cmdline);
}

static void
add_features (xmlNode *dom, const LodgePlacement *p)
{
  xmlNode *features = add_empty (dom, "features");
  add_empty (features, "acpi");
  add_empty (features, "apic");
  if (p->accel == LODGE_ACCEL_TCG && p->tb_cache_mib > 0)
    {
      xmlNode *tcg = add_empty (features, "tcg");
      g_autofree char *mib = g_strdup_printf ("%u", p->tb_cache_mib);
      lodge_xml_set (lodge_xml_add (tcg, "tb-cache", mib), "unit", "MiB");
    }
}

/* How a node reaches the disk: the monitors, its Ceph configuration, its
 * cephx user and the libvirt secret holding that user's key. */
static void
add_rbd_access (xmlNode *source, const LodgePlacement *p)
{
  for (guint i = 0; p->ceph_monitors[i] != NULL; i++)
    {
      g_autofree char *host = NULL, *port = NULL;
      split_host_port (p->ceph_monitors[i], &host, &port); /* checked before */
      xmlNode *h = add_empty (source, "host");
      lodge_xml_set (h, "name", host);
      lodge_xml_set (h, "port", port);
    }
  if (p->ceph_conf != NULL)
    {
      xmlNode *config = add_empty (source, "config");
      lodge_xml_set (config, "file", p->ceph_conf);
    }
  xmlNode *auth = add_empty (source, "auth");
  lodge_xml_set (auth, "username", p->ceph_user);
  xmlNode *secret = add_empty (auth, "secret");
  lodge_xml_set (secret, "type", "ceph");
  lodge_xml_set (secret, "uuid", p->ceph_secret_uuid);
}

static void
add_uint64 (xmlNode *parent, const char *name, guint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, value);
  lodge_xml_add (parent, name, text);
}

/* The disk's throttle, QEMU's own (no cgroup needed): what one VE can take
 * of the cluster's Ceph and of the node's network. */
static void
add_iotune (xmlNode *disk, const LodgeEnvDef *def)
{
  xmlNode *io = add_empty (disk, "iotune");
  add_uint64 (io, "total_bytes_sec", lodge_env_def_effective_bandwidth (def));
  add_uint64 (io, "total_iops_sec", lodge_env_def_effective_iops (def));
}

static void
add_disk (xmlNode *devices, const LodgeEnvDef *def, const LodgePlacement *p)
{
  xmlNode *disk = add_empty (devices, "disk");
  lodge_xml_set (disk, "type", "network");
  lodge_xml_set (disk, "device", "disk");
  xmlNode *driver = add_empty (disk, "driver");
  lodge_xml_set (driver, "name", "qemu");
  lodge_xml_set (driver, "type", "raw");
  lodge_xml_set (driver, "cache", "writeback");
  lodge_xml_set (driver, "discard", "unmap");

  xmlNode *source = add_empty (disk, "source");
  g_autofree char *name = g_strdup_printf ("%s/%s", p->rbd_pool, p->rbd_image);
  lodge_xml_set (source, "protocol", "rbd");
  lodge_xml_set (source, "name", name);
  add_rbd_access (source, p);

  xmlNode *target = add_empty (disk, "target");
  lodge_xml_set (target, "dev", "vda");
  lodge_xml_set (target, "bus", "virtio");
  add_iotune (disk, def);
}

static void
add_parameter (xmlNode *filter, const char *name, const char *value)
{
  xmlNode *p = add_empty (filter, "parameter");
  lodge_xml_set (p, "name", name);
  lodge_xml_set (p, "value", value);
}

/* The interface sends only from its MAC and its addresses (docs/security.md,
 * Network isolation): the filter's parameters are those, never learnt
 * from what the guest sends. An interface without IPv4 addresses gets
 * 0.0.0.0, which no-ip-spoofing lets send nothing but DHCP requests. */
static void
add_filter (xmlNode *iface_node, const char *mac, const LodgeEnvInterface *iface)
{
  gboolean v4 = FALSE, v6 = FALSE;
  for (guint j = 0; j < iface->ips->len; j++)
    {
      const LodgeEnvIp *ip = iface->ips->pdata[j];
      v4 |= ip->family == LODGE_IP_V4;
      v6 |= ip->family == LODGE_IP_V6;
    }
  xmlNode *f = add_empty (iface_node, "filterref");
  lodge_xml_set (f, "filter", v6 ? LODGE_NWFILTER_DUAL : LODGE_NWFILTER);
  add_parameter (f, "CTRL_IP_LEARNING", "none");
  add_parameter (f, "MAC", mac);
  if (!v4)
    add_parameter (f, "IP", "0.0.0.0");
  for (guint j = 0; j < iface->ips->len; j++)
    {
      const LodgeEnvIp *ip = iface->ips->pdata[j];
      if (ip->family == LODGE_IP_V4)
        add_parameter (f, "IP", ip->address);
    }
  if (!v6)
    return;
  /* The link-local address the guest's kernel makes from the MAC
   * (EUI-64), for neighbour discovery. */
  guint m[6] = { 0 };
  if (sscanf (mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
    {
      g_autofree char *ll = g_strdup_printf ("fe80::%x:%x:%x:%x", ((m[0] ^ 2) << 8) | m[1],
                                             (m[2] << 8) | 0xff, 0xfe00 | m[3], (m[4] << 8) | m[5]);
      add_parameter (f, "IPV6", ll);
    }
  for (guint j = 0; j < iface->ips->len; j++)
    {
      const LodgeEnvIp *ip = iface->ips->pdata[j];
      if (ip->family == LODGE_IP_V6)
        add_parameter (f, "IPV6", ip->address);
    }
}

static void
add_interfaces (xmlNode *devices, const LodgeEnvDef *def, const LodgePlacement *p)
{
  for (guint i = 0; i < def->interfaces->len; i++)
    {
      const LodgeEnvInterface *iface = def->interfaces->pdata[i];
      g_autofree char *mac = lodge_domain_interface_mac (def, iface);
      xmlNode *n = add_empty (devices, "interface");
      lodge_xml_set (n, "type", "bridge");
      lodge_xml_set (add_empty (n, "mac"), "address", mac);
      lodge_xml_set (add_empty (n, "source"), "bridge", p->bridge);
      lodge_xml_set (add_empty (n, "model"), "type", "virtio");
      add_filter (n, mac, iface);
    }
}

static void
add_console (xmlNode *devices, const LodgePlacement *p)
{
  xmlNode *serial = add_empty (devices, "serial");
  lodge_xml_set (serial, "type", "pty");
  if (p->console_log != NULL)
    {
      xmlNode *log = add_empty (serial, "log");
      lodge_xml_set (log, "file", p->console_log);
      lodge_xml_set (log, "append", "on");
    }
  lodge_xml_set (add_empty (serial, "target"), "port", "0");

  xmlNode *console = add_empty (devices, "console");
  lodge_xml_set (console, "type", "pty");
  xmlNode *target = add_empty (console, "target");
  lodge_xml_set (target, "type", "serial");
  lodge_xml_set (target, "port", "0");

  /* The guest agent's virtio-serial port; libvirt makes the host socket
   * and speaks the protocol (lodge exec, app state, passwords). */
  xmlNode *channel = add_empty (devices, "channel");
  lodge_xml_set (channel, "type", "unix");
  xmlNode *ch_target = add_empty (channel, "target");
  lodge_xml_set (ch_target, "type", "virtio");
  lodge_xml_set (ch_target, "name", "org.qemu.guest_agent.0");
}

static void
add_devices (xmlNode *dom, const LodgeEnvDef *def, const LodgePlacement *p)
{
  xmlNode *devices = add_empty (dom, "devices");
  add_disk (devices, def, p);
  add_interfaces (devices, def, p);
  add_console (devices, p);

  xmlNode *usb = add_empty (devices, "controller");
  lodge_xml_set (usb, "type", "usb");
  lodge_xml_set (usb, "model", "none");

  /* Overcommit: the balloon hands idle guest pages back to the host, and
   * the node agent grows a guest out of the node's free memory only
   * (virt/lodge-balloon.h). No autodeflate: a guest that fills its memory
   * would take back what the host promised others. Statistics every 2 s:
   * what the agent decides by. */
  xmlNode *balloon = add_empty (devices, "memballoon");
  lodge_xml_set (balloon, "model", "virtio");
  lodge_xml_set (balloon, "autodeflate", "off");
  lodge_xml_set (balloon, "freePageReporting", "on");
  lodge_xml_set (add_empty (balloon, "stats"), "period", "2");

  /* The guest kernel tells the host it panicked: QEMU's ISA pvpanic
   * device (ACPI QEMU0001), which the kernel's CONFIG_PVPANIC_MMIO drives. */
  lodge_xml_set (add_empty (devices, "panic"), "model", "isa");

  xmlNode *rng = add_empty (devices, "rng");
  lodge_xml_set (rng, "model", "virtio");
  lodge_xml_set (lodge_xml_add (rng, "backend", "/dev/urandom"), "model", "random");
}

/* The VE's share of the node's CPUs under contention (its weight), and
 * with a <limit> a ceiling for the whole domain (every thread of its
 * QEMU), whatever the node's load. Needs the node's CPU cgroup. */
static void
add_cputune (xmlNode *dom, const LodgeEnvDef *def)
{
  xmlNode *tune = add_empty (dom, "cputune");
  add_uint64 (tune, "shares", lodge_env_def_effective_cpu_weight (def));
  if (def->cpu_limit != 0)
    {
      add_uint64 (tune, "global_period", 100000);
      add_uint64 (tune, "global_quota", (guint64) def->cpu_limit * 1000);
    }
}

char *
lodge_domain_xml_generate (const LodgeEnvDef *def, const LodgePlacement *p, GError **error)
{
  g_return_val_if_fail (def != NULL, NULL);
  g_return_val_if_fail (p != NULL, NULL);

  if (!placement_check (p, error))
    return NULL;

  g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *dom = xmlNewNode (NULL, (const xmlChar *) "domain");
  xmlDocSetRootElement (doc, dom);
  lodge_xml_set (dom, "type", p->accel == LODGE_ACCEL_KVM ? "kvm" : "qemu");

  lodge_xml_add (dom, "name", def->name);
  if (p->uuid != NULL)
    lodge_xml_add (dom, "uuid", p->uuid);
  if (def->description != NULL)
    lodge_xml_add (dom, "description", def->description);
  add_metadata (dom, def);

  add_kib (dom, "memory", def->memory);
  add_kib (dom, "currentMemory", lodge_domain_boot_memory (def));
  set_page_sharing (dom, p);
  g_autofree char *vcpus = g_strdup_printf ("%u", def->vcpus);
  lodge_xml_set (lodge_xml_add (dom, "vcpu", vcpus), "placement", "static");
  if (p->cpu_tuning)
    add_cputune (dom, def);

  /* The per-VE config blob: identity, root credential, OS parameters. It
   * holds secrets, so it is passed as a file, never inline on QEMU's
   * command line. */
  xmlNode *sysinfo = add_empty (dom, "sysinfo");
  lodge_xml_set (sysinfo, "type", "fwcfg");
  xmlNode *entry = add_empty (sysinfo, "entry");
  lodge_xml_set (entry, "name", LODGE_FWCFG_CONFIG_NAME);
  lodge_xml_set (entry, "file", p->config_file);

  add_os (dom, p);
  add_features (dom, p);
  if (p->accel == LODGE_ACCEL_KVM)
    {
      xmlNode *cpu = add_empty (dom, "cpu");
      lodge_xml_set (cpu, "mode", "host-passthrough");
      lodge_xml_set (cpu, "migratable", "on");
    }
  lodge_xml_set (add_empty (dom, "clock"), "offset", "utc");
  lodge_xml_add (dom, "on_poweroff", "destroy");
  lodge_xml_add (dom, "on_reboot", "restart");
  /* A guest kernel panic (the pvpanic device) leaves the domain crashed,
   * not gone: libvirt's reason says "panicked", and Lodge destroys it as
   * it restarts the VE (controller/lodge-restart.h). */
  lodge_xml_add (dom, "on_crash", "preserve");
  add_devices (dom, def, p);

  return lodge_xml_format_doc (doc);
}

/* ---- a running domain's XML, for another node ---- */

static xmlNode *
child_with (xmlNode *parent, const char *name, const char *attr, const char *value)
{
  LODGE_XML_FOREACH_CHILD (c, parent, name)
    {
      g_autofree char *v = attr != NULL ? lodge_xml_prop (c, attr) : NULL;
      if (attr == NULL || g_strcmp0 (v, value) == 0)
        return c;
    }
  return NULL;
}


/* Indentation between elements, so that the result is indented anew. */
static void
drop_blanks (xmlNode *node)
{
  xmlNode *c = node->children;
  while (c != NULL)
    {
      xmlNode *next = c->next;
      if (c->type == XML_TEXT_NODE && xmlIsBlankNode (c) && (next != NULL || c->prev != NULL))
        {
          xmlUnlinkNode (c);
          xmlFreeNode (c);
        }
      else if (c->type == XML_ELEMENT_NODE)
        drop_blanks (c);
      c = next;
    }
}

static char *
retarget_fail (GError **error, const char *what)
{
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
               "the running domain's XML has no %s: not a domain Lodge defined", what);
  return NULL;
}

char *
lodge_domain_xml_retarget (const char *xml, gsize len, const LodgePlacement *p, GError **error)
{
  g_return_val_if_fail (xml != NULL && p != NULL, NULL);
  if (!placement_check (p, error))
    return NULL;
  g_autoptr (xmlDoc) doc = lodge_xml_parse (xml, len, "the running domain's XML", error);
  if (doc == NULL)
    return NULL;
  xmlNode *dom = xmlDocGetRootElement (doc);
  drop_blanks (dom);
  xmlNode *os = lodge_xml_child (dom, "os");
  xmlNode *kernel = os != NULL ? lodge_xml_child (os, "kernel") : NULL;
  xmlNode *sysinfo = child_with (dom, "sysinfo", "type", "fwcfg");
  xmlNode *entry = sysinfo != NULL ? child_with (sysinfo, "entry", "name", LODGE_FWCFG_CONFIG_NAME)
                                   : NULL;
  xmlNode *devices = lodge_xml_child (dom, "devices");
  xmlNode *disk = devices != NULL ? child_with (devices, "disk", "type", "network") : NULL;
  xmlNode *source = disk != NULL ? child_with (disk, "source", "protocol", "rbd") : NULL;
  if (kernel == NULL)
    return retarget_fail (error, "<os><kernel>");
  if (entry == NULL)
    return retarget_fail (error, "fw_cfg entry " LODGE_FWCFG_CONFIG_NAME);
  if (source == NULL)
    return retarget_fail (error, "RBD disk");

  /* The guest kernel, as the node keeps it. */
  xmlNodeSetContent (kernel, NULL);
  xmlNodeAddContent (kernel, (const xmlChar *) p->kernel);
  remove_children (os, "initrd");
  if (p->initrd != NULL)
    {
      xmlNode *initrd = xmlNewDocNode (doc, NULL, (const xmlChar *) "initrd", NULL);
      xmlNodeAddContent (initrd, (const xmlChar *) p->initrd);
      xmlAddNextSibling (kernel, initrd);
    }

  /* The config blob and the console log, where that node has them. */
  lodge_xml_set (entry, "file", p->config_file);
  LODGE_XML_FOREACH_CHILD (serial, devices, "serial")
    {
      remove_children (serial, "log");
      if (p->console_log != NULL)
        {
          xmlNode *log = xmlNewDocNode (doc, NULL, (const xmlChar *) "log", NULL);
          lodge_xml_set (log, "file", p->console_log);
          lodge_xml_set (log, "append", "on");
          xmlNode *first = serial->children;
          while (first != NULL && first->type != XML_ELEMENT_NODE)
            first = first->next;
          if (first != NULL)
            xmlAddPrevSibling (first, log);
          else
            xmlAddChild (serial, log);
        }
    }

  /* Its way to the disk, and its bridge. */
  remove_children (source, "host");
  remove_children (source, "config");
  remove_children (source, "auth");
  remove_children (disk, "auth"); /* libvirt keeps <auth> where it was given */
  add_rbd_access (source, p);
  LODGE_XML_FOREACH_CHILD (iface, devices, "interface")
    {
      g_autofree char *type = lodge_xml_prop (iface, "type");
      xmlNode *src = lodge_xml_child (iface, "source");
      if (g_strcmp0 (type, "bridge") == 0 && src != NULL)
        lodge_xml_set (src, "bridge", p->bridge);
    }
  /* CPU tuning only where the node's libvirt has the CPU cgroup (it would
   * refuse the guest); where it has, the guest keeps its own. */
  if (!p->cpu_tuning)
    remove_children (dom, "cputune");
  /* Page sharing is QEMU's madvise at its start, not migrated state: as
   * the new node has it. */
  set_page_sharing (dom, p);
  return lodge_xml_format_doc (doc);
}
