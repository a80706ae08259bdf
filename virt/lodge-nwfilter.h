/* The network filters of VEs' interfaces on a node (libvirt nwfilter,
 * docs/security.md, Network isolation): LODGE_NWFILTER and
 * LODGE_NWFILTER_DUAL (common/lodge-domain.h), self-contained: clean-traffic's
 * rules, all in the root chain (lodge-nwfilter.c says why). With the parameters
 * each interface's <filterref> gives (its MAC, IP and IPV6 addresses,
 * never learnt from the guest), a VE sends only from its own MAC and
 * addresses, spoofs no ARP, answers no DHCP and advertises no router;
 * everything but IPv4, ARP (and IPv6 for the dual filter) is dropped. */
#pragma once

#include "lodge-libvirt.h"

G_BEGIN_DECLS

/* Defines (or updates, under their own UUIDs) both filters on @lv's
 * node; libvirt then applies the new rules to the running VEs' ports
 * too. Every node's agent calls it at start, so that a VE's filter exists
 * wherever it starts or migrates to. */
gboolean lodge_libvirt_define_filters (LodgeLibvirt *lv, GError **error);

G_END_DECLS
