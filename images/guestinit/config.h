/* The per-VE configuration blob (docs/guest-config.md), as the guest's init
 * shim reads it. Plain C with no allocation: PID 1 of a VE must not depend
 * on much, and a bad blob must only ever be an error, never a crash. */
#pragma once

#include <stddef.h>

#define LODGE_CFG_VERSION 1
#define LODGE_CFG_MAX_BYTES (64 * 1024)
#define LODGE_CFG_MAX_KEYS 64
#define LODGE_CFG_MAX_SYSCTLS 128
#define LODGE_CFG_MAX_DNS 8
#define LODGE_CFG_MAX_IFACES 16
#define LODGE_CFG_MAX_ADDRS 64
#define LODGE_CFG_MAX_GATEWAYS 8
#define LODGE_CFG_MAX_APPS 32

struct lodge_cfg_sysctl {
  const char *name;
  const char *value;
};

struct lodge_cfg_iface {
  const char *name;
  const char *mac;
};

/* An address or a gateway of an interface. */
struct lodge_cfg_addr {
  const char *iface;
  const char *address; /* "192.0.2.10" */
  int prefix;          /* -1 for gateways */
};

struct lodge_cfg_app {
  const char *name;
  int autostart;
  const char *command; /* "" when the application template's own */
};

/* Every string points into the buffer given to lodge_cfg_parse(), which
 * must outlive the struct. */
struct lodge_cfg {
  const char *name;
  const char *hostname;
  const char *root_hash;
  const char *timezone;
  const char *keys[LODGE_CFG_MAX_KEYS];
  int n_keys;
  const char *dns_servers[LODGE_CFG_MAX_DNS];
  int n_dns_servers;
  const char *dns_search[LODGE_CFG_MAX_DNS];
  int n_dns_search;
  struct lodge_cfg_sysctl sysctls[LODGE_CFG_MAX_SYSCTLS];
  int n_sysctls;
  struct lodge_cfg_iface ifaces[LODGE_CFG_MAX_IFACES];
  int n_ifaces;
  struct lodge_cfg_addr addrs[LODGE_CFG_MAX_ADDRS];
  int n_addrs;
  struct lodge_cfg_addr gateways[LODGE_CFG_MAX_GATEWAYS];
  int n_gateways;
  struct lodge_cfg_app apps[LODGE_CFG_MAX_APPS];
  int n_apps;
};

/* Parses @buf (@len bytes; modified in place: line ends become NULs).
 * Returns 0, or -1 with a one-line reason in @err (the whole blob is then
 * refused: nothing of it is to be applied). */
int lodge_cfg_parse (char *buf, size_t len, struct lodge_cfg *cfg, char *err, size_t err_len);

/* Checks a value that becomes part of a path (sysctl names, time zones,
 * interface names): no "..", no leading '/', only [A-Za-z0-9._+/-]. */
int lodge_cfg_safe_path_part (const char *s);
