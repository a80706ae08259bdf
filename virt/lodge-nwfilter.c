#include "lodge-nwfilter.h"

#include <string.h>
#include <libvirt/virterror.h>

#include "lodge-domain.h"
#include "lodge-libvirt-private.h"

/* The stock filters (libvirt-daemon-config-nwfilter) the two use. */
static const char *const stock[] = {
  "no-mac-spoofing", "no-ip-spoofing", "no-ipv6-spoofing", "allow-incoming-ipv4",
  "allow-incoming-ipv6", "no-arp-spoofing", "no-other-l2-traffic", "qemu-announce-self",
};

/* clean-traffic, without learning, and without a DHCP server; the dual
 * one also lets IPv6 from the interface's own addresses through, without
 * router advertisements or a DHCPv6 server. Lower priorities match
 * first: the drops (-800) come before the chains that accept. */
#define FILTER_HEAD(name) \
  "<filter name='" name "' chain='root'>\n" \
  "  <filterref filter='no-mac-spoofing'/>\n" \
  "  <rule action='drop' direction='out' priority='-800'>\n" \
  "    <ip protocol='udp' srcportstart='67' srcportend='67'/>\n" \
  "  </rule>\n" \
  "  <filterref filter='no-ip-spoofing'/>\n" \
  "  <rule action='accept' direction='out' priority='-650'>\n" \
  "    <mac protocolid='ipv4'/>\n" \
  "  </rule>\n" \
  "  <filterref filter='allow-incoming-ipv4'/>\n"
#define FILTER_TAIL \
  "  <filterref filter='no-arp-spoofing'/>\n" \
  "  <rule action='accept' direction='inout' priority='-500'>\n" \
  "    <mac protocolid='arp'/>\n" \
  "  </rule>\n" \
  "  <filterref filter='no-other-l2-traffic'/>\n" \
  "  <filterref filter='qemu-announce-self'/>\n" \
  "</filter>\n"

static const char filter_v4[] = FILTER_HEAD (LODGE_NWFILTER) FILTER_TAIL;

static const char filter_dual[] = FILTER_HEAD (LODGE_NWFILTER_DUAL)
  "  <rule action='drop' direction='out' priority='-800'>\n"
  "    <ipv6 protocol='icmpv6' type='134'/>\n"
  "  </rule>\n"
  "  <rule action='drop' direction='out' priority='-800'>\n"
  "    <ipv6 protocol='udp' srcportstart='547' srcportend='547'/>\n"
  "  </rule>\n"
  "  <filterref filter='no-ipv6-spoofing'/>\n"
  "  <rule action='accept' direction='out' priority='-600'>\n"
  "    <mac protocolid='ipv6'/>\n"
  "  </rule>\n"
  "  <filterref filter='allow-incoming-ipv6'/>\n"
  FILTER_TAIL;

gboolean
lodge_libvirt_define_filters (LodgeLibvirt *lv, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (stock); i++)
    {
      virNWFilterPtr f = virNWFilterLookupByName (lv->conn, stock[i]);
      if (f == NULL)
        return lodge_libvirt_fail (lv, error,
                                   "libvirt at %s has no network filter '%s' (Debian's "
                                   "libvirt-daemon-config-nwfilter has it), which VEs' filters use",
                                   lv->uri, stock[i]);
      virNWFilterFree (f);
    }
  for (int dual = 0; dual <= 1; dual++)
    {
      const char *name = dual ? LODGE_NWFILTER_DUAL : LODGE_NWFILTER;
      const char *xml = dual ? filter_dual : filter_v4;
      /* A filter defined before (an earlier start of the agent) is
       * updated only under its own UUID. */
      g_autofree char *with_uuid = NULL;
      virNWFilterPtr old = virNWFilterLookupByName (lv->conn, name);
      if (old != NULL)
        {
          char uuid[VIR_UUID_STRING_BUFLEN];
          gboolean got = virNWFilterGetUUIDString (old, uuid) == 0;
          virNWFilterFree (old);
          if (!got)
            return lodge_libvirt_fail (lv, error, "cannot read the network filter %s at %s", name,
                                       lv->uri);
          const char *body = strchr (xml, '\n') + 1;
          with_uuid = g_strdup_printf ("%.*s  <uuid>%s</uuid>\n%s", (int) (body - xml), xml, uuid, body);
          xml = with_uuid;
        }
      else
        virResetLastError ();
      virNWFilterPtr f = virNWFilterDefineXML (lv->conn, xml);
      if (f == NULL)
        return lodge_libvirt_fail (lv, error, "cannot define the network filter %s at %s", name,
                                   lv->uri);
      virNWFilterFree (f);
    }
  return TRUE;
}
