#include "lodge-nwfilter.h"

#include <string.h>
#include <libvirt/virterror.h>

#include "lodge-domain.h"
#include "lodge-libvirt-private.h"

/* Every rule in the root chain, none in a chain of its own: libvirt
 * makes each chain with about eight ebtables commands and renames it
 * with four more, one process each. Built on libvirt's stock filters
 * (seven chains), the filter took 127 commands to bind at a start and 79
 * to remove at a stop; these take 60 and 58 (bench/run-nwfilter.sh:
 * 0.35 of clean-traffic's time to bind, 0.42 to remove). The rules are
 * clean-traffic's, without learning and without a DHCP server: out of
 * the VE a frame passes only if one of the accepts, each of which names
 * the interface's MAC, matches it; the drops of lower priority match
 * first. Into the VE pass IPv4, ARP (and IPv6), and the RARP a migrated
 * guest's QEMU announces itself with. The dual filter also lets IPv6
 * from the interface's own addresses through, without router
 * advertisements or a DHCPv6 server. $IP and $IPV6 take iterator 1:
 * each value makes a rule with the one $MAC (libvirt walks the
 * variables of a rule without one in parallel, and an interface has one
 * MAC but may have several addresses). */
#define RULE(action, dir, prio, match) \
  "  <rule action='" action "' direction='" dir "' priority='" prio "'>\n" \
  "    " match "\n" \
  "  </rule>\n"
#define ANNOUNCE \
  "dstmacaddr='ff:ff:ff:ff:ff:ff' opcode='Request_Reverse' arpsrcmacaddr='$MAC' " \
  "arpdstmacaddr='$MAC' arpsrcipaddr='0.0.0.0' arpdstipaddr='0.0.0.0'"
#define FILTER_V4 \
  RULE ("drop", "out", "-900", "<ip protocol='udp' srcportstart='67' srcportend='67'/>") \
  RULE ("accept", "out", "-500", "<ip srcmacaddr='$MAC' srcipaddr='$IP[@1]'/>") \
  RULE ("accept", "out", "-500", "<ip srcmacaddr='$MAC' srcipaddr='0.0.0.0' protocol='udp'/>") \
  RULE ("accept", "out", "-500", "<arp srcmacaddr='$MAC' arpsrcmacaddr='$MAC' arpsrcipaddr='$IP[@1]'/>") \
  RULE ("accept", "out", "-500", "<rarp srcmacaddr='$MAC' " ANNOUNCE "/>") \
  RULE ("accept", "in", "-500", "<mac protocolid='ipv4'/>") \
  RULE ("accept", "in", "-500", "<mac protocolid='arp'/>") \
  RULE ("accept", "in", "-500", "<rarp " ANNOUNCE "/>")
#define FILTER_END \
  "  <rule action='drop' direction='inout' priority='1000'/>\n" \
  "</filter>\n"

static const char filter_v4[] =
  "<filter name='" LODGE_NWFILTER "' chain='root'>\n" FILTER_V4 FILTER_END;

static const char filter_dual[] =
  "<filter name='" LODGE_NWFILTER_DUAL "' chain='root'>\n" FILTER_V4
  RULE ("drop", "out", "-900", "<ipv6 protocol='icmpv6' type='134'/>")
  RULE ("drop", "out", "-900", "<ipv6 protocol='udp' srcportstart='547' srcportend='547'/>")
  RULE ("accept", "out", "-500", "<ipv6 srcmacaddr='$MAC' srcipaddr='$IPV6[@1]'/>")
  RULE ("accept", "out", "-500",
        "<ipv6 srcmacaddr='$MAC' srcipaddr='fe80::' srcipmask='10' protocol='udp'/>")
  RULE ("accept", "in", "-500", "<mac protocolid='ipv6'/>")
  FILTER_END;

gboolean
lodge_libvirt_define_filters (LodgeLibvirt *lv, GError **error)
{
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
