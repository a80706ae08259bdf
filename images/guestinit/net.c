#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apply.h"

struct nl_req {
  struct nlmsghdr h;
  union {
    struct ifinfomsg ifi;
    struct ifaddrmsg ifa;
    struct rtmsg rt;
  };
  char attrs[512];
};

static void
add_attr (struct nl_req *r, unsigned short type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *) ((char *) r + NLMSG_ALIGN (r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH (len);
  memcpy (RTA_DATA (a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN (r->h.nlmsg_len) + RTA_ALIGN (a->rta_len);
}

/* Sends one request and waits for its ack; returns 0 or -errno. */
static int
talk (int fd, struct nl_req *r)
{
  static unsigned seq;
  r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  r->h.nlmsg_seq = ++seq;
  if (send (fd, r, r->h.nlmsg_len, 0) < 0)
    return -errno;
  char buf[4096];
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, 0);
      if (n < 0)
        return -errno;
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) n);
           h = NLMSG_NEXT (h, n))
        if (h->nlmsg_seq == r->h.nlmsg_seq && h->nlmsg_type == NLMSG_ERROR)
          return ((struct nlmsgerr *) NLMSG_DATA (h))->error;
    }
}

static int
link_index_by_name (const char *name)
{
  char path[300];
  snprintf (path, sizeof path, "/sys/class/net/%s/ifindex", name);
  FILE *f = fopen (path, "re");
  int index = -1;
  if (f != NULL)
    {
      if (fscanf (f, "%d", &index) != 1)
        index = -1;
      fclose (f);
    }
  return index;
}

/* The current name of the NIC with @mac, into @name (IFNAMSIZ). */
static int
find_by_mac (const char *mac, char *name)
{
  DIR *d = opendir ("/sys/class/net");
  if (d == NULL)
    return -1;
  struct dirent *e;
  int found = -1;
  while (found < 0 && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      char path[300], addr[32] = "";
      snprintf (path, sizeof path, "/sys/class/net/%s/address", e->d_name);
      FILE *f = fopen (path, "re");
      if (f == NULL)
        continue;
      if (fgets (addr, sizeof addr, f) != NULL && strncasecmp (addr, mac, 17) == 0
          && strlen (e->d_name) < IFNAMSIZ)
        {
          memcpy (name, e->d_name, strlen (e->d_name) + 1);
          found = 0;
        }
      fclose (f);
    }
  closedir (d);
  return found;
}

static int
set_link (int fd, int index, const char *new_name, int up)
{
  struct nl_req r = { 0 };
  r.h.nlmsg_len = NLMSG_LENGTH (sizeof r.ifi);
  r.h.nlmsg_type = RTM_NEWLINK;
  r.ifi.ifi_family = AF_UNSPEC;
  r.ifi.ifi_index = index;
  r.ifi.ifi_change = IFF_UP;
  r.ifi.ifi_flags = up ? IFF_UP : 0;
  if (new_name != NULL)
    add_attr (&r, IFLA_IFNAME, new_name, strlen (new_name) + 1);
  return talk (fd, &r);
}

static int
parse_addr (const char *text, unsigned char *bytes, int *family)
{
  if (inet_pton (AF_INET, text, bytes) == 1)
    *family = AF_INET;
  else if (inet_pton (AF_INET6, text, bytes) == 1)
    *family = AF_INET6;
  else
    return -1;
  return 0;
}

static int
add_address (int fd, int index, const struct lodge_cfg_addr *a)
{
  unsigned char bytes[16];
  int family;
  if (parse_addr (a->address, bytes, &family) < 0)
    return -EINVAL;
  struct nl_req r = { 0 };
  r.h.nlmsg_len = NLMSG_LENGTH (sizeof r.ifa);
  r.h.nlmsg_type = RTM_NEWADDR;
  r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  r.ifa.ifa_family = family;
  r.ifa.ifa_prefixlen = a->prefix;
  r.ifa.ifa_index = index;
  /* Static addresses are not tentative: usable at once, no DAD wait. */
  if (family == AF_INET6)
    r.ifa.ifa_flags = IFA_F_NODAD;
  size_t len = family == AF_INET ? 4 : 16;
  add_attr (&r, IFA_LOCAL, bytes, len);
  add_attr (&r, IFA_ADDRESS, bytes, len);
  return talk (fd, &r);
}

static int
add_default_route (int fd, int index, const struct lodge_cfg_addr *gw)
{
  unsigned char bytes[16];
  int family;
  if (parse_addr (gw->address, bytes, &family) < 0)
    return -EINVAL;
  struct nl_req r = { 0 };
  r.h.nlmsg_len = NLMSG_LENGTH (sizeof r.rt);
  r.h.nlmsg_type = RTM_NEWROUTE;
  r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  r.rt.rtm_family = family;
  r.rt.rtm_table = RT_TABLE_MAIN;
  r.rt.rtm_protocol = RTPROT_STATIC;
  r.rt.rtm_scope = RT_SCOPE_UNIVERSE;
  r.rt.rtm_type = RTN_UNICAST;
  add_attr (&r, RTA_GATEWAY, bytes, family == AF_INET ? 4 : 16);
  add_attr (&r, RTA_OIF, &index, sizeof index);
  return talk (fd, &r);
}

/* A VE that starts where another copy of it ran (a failover from a node
 * that froze or was cut off, its port still on the switch) must tell the
 * switch where its MAC is now: a bridge learns a MAC's port from what the
 * port sends, and until the new copy sends something, frames for it go to
 * the old port; a quiet server sends nothing until a peer's ARP entry
 * expires (most of a minute). With arp_notify, a link brought up with its
 * addresses already on it sends a gratuitous ARP for each. */
static void
announce_links (void)
{
  int fd = open ("/proc/sys/net/ipv4/conf/all/arp_notify", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "1", 1) != 1)
    lodge_say ("network: cannot set arp_notify: %s", strerror (errno));
  if (fd >= 0)
    close (fd);
}

int
lodge_net_apply (const struct lodge_cfg *cfg)
{
  announce_links ();
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    {
      lodge_say ("network: no netlink: %s", strerror (errno));
      return 1;
    }
  int failures = 0, r;
  int lo = link_index_by_name ("lo");
  if (lo > 0 && (r = set_link (fd, lo, NULL, 1)) < 0)
    {
      lodge_say ("network: lo: %s", strerror (-r));
      failures++;
    }
  for (int i = 0; i < cfg->n_ifaces; i++)
    {
      const struct lodge_cfg_iface *iface = &cfg->ifaces[i];
      char current[IFNAMSIZ];
      if (find_by_mac (iface->mac, current) < 0)
        {
          lodge_say ("network: no NIC with MAC %s for %s", iface->mac, iface->name);
          failures++;
          continue;
        }
      int index = link_index_by_name (current);
      /* A rename needs the link down; to swap eth0 and eth1, move the
       * holder of the wanted name aside first. */
      if (strcmp (current, iface->name) != 0)
        {
          int holder = link_index_by_name (iface->name);
          if (holder > 0)
            {
              char aside[IFNAMSIZ];
              snprintf (aside, sizeof aside, "lodge%d", holder);
              set_link (fd, holder, NULL, 0);
              set_link (fd, holder, aside, 0);
            }
          set_link (fd, index, NULL, 0);
          if ((r = set_link (fd, index, iface->name, 0)) < 0)
            {
              lodge_say ("network: cannot rename %s to %s: %s", current, iface->name, strerror (-r));
              failures++;
              continue;
            }
        }
      /* The addresses before the link is up: bringing it up announces
       * them (announce_links). */
      for (int j = 0; j < cfg->n_addrs; j++)
        if (strcmp (cfg->addrs[j].iface, iface->name) == 0
            && (r = add_address (fd, index, &cfg->addrs[j])) < 0)
          {
            lodge_say ("network: %s: address %s/%d: %s", iface->name, cfg->addrs[j].address,
                       cfg->addrs[j].prefix, strerror (-r));
            failures++;
          }
      if ((r = set_link (fd, index, NULL, 1)) < 0)
        {
          lodge_say ("network: cannot bring %s up: %s", iface->name, strerror (-r));
          failures++;
          continue;
        }
      for (int j = 0; j < cfg->n_gateways; j++)
        if (strcmp (cfg->gateways[j].iface, iface->name) == 0
            && (r = add_default_route (fd, index, &cfg->gateways[j])) < 0)
          {
            lodge_say ("network: %s: default route via %s: %s", iface->name,
                       cfg->gateways[j].address, strerror (-r));
            failures++;
          }
    }
  close (fd);
  return failures;
}
