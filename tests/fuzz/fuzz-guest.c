/* libFuzzer target for what lodge-init reads from the host: the
 * configuration blob (images/guestinit/config.c) and the guest agent's
 * JSON (json.c, jansson with Lodge's limits). Every input goes to both.
 * Any byte sequence is a configuration or an error with a reason, and
 * JSON or an error with a reason, never a crash, a leak or undefined
 * behaviour. An accepted configuration keeps its limits and its checks
 * (a path part is safe, an address names a listed interface); accepted
 * JSON is within the limits, integers only, and writes back to JSON that
 * loads to an equal value and writes the same again. Any C string makes a
 * JSON string that loads back to itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  do \
    { \
      if (!(cond)) \
        { \
          fprintf (stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
          abort (); \
        } \
    } \
  while (0)

static void
check_string (const char *s)
{
  CHECK (s != NULL && strchr (s, '\n') == NULL);
}

static void
check_cfg (const struct lodge_cfg *cfg)
{
  check_string (cfg->name);
  check_string (cfg->hostname);
  if (cfg->root_hash != NULL)
    {
      check_string (cfg->root_hash);
      CHECK (strncmp (cfg->root_hash, "$6$", 3) == 0 || strncmp (cfg->root_hash, "$y$", 3) == 0);
      CHECK (strchr (cfg->root_hash, ':') == NULL);
    }
  if (cfg->timezone != NULL)
    CHECK (lodge_cfg_safe_path_part (cfg->timezone));
  CHECK (cfg->n_keys <= LODGE_CFG_MAX_KEYS && cfg->n_dns_servers <= LODGE_CFG_MAX_DNS
         && cfg->n_dns_search <= LODGE_CFG_MAX_DNS && cfg->n_sysctls <= LODGE_CFG_MAX_SYSCTLS
         && cfg->n_ifaces <= LODGE_CFG_MAX_IFACES && cfg->n_addrs <= LODGE_CFG_MAX_ADDRS
         && cfg->n_gateways <= LODGE_CFG_MAX_GATEWAYS && cfg->n_apps <= LODGE_CFG_MAX_APPS);
  for (int i = 0; i < cfg->n_keys; i++)
    check_string (cfg->keys[i]);
  for (int i = 0; i < cfg->n_sysctls; i++)
    {
      CHECK (lodge_cfg_safe_path_part (cfg->sysctls[i].name));
      CHECK (strchr (cfg->sysctls[i].name, '/') == NULL);
      check_string (cfg->sysctls[i].value);
    }
  for (int i = 0; i < cfg->n_ifaces; i++)
    {
      CHECK (lodge_cfg_safe_path_part (cfg->ifaces[i].name));
      CHECK (strlen (cfg->ifaces[i].name) <= 15 && strlen (cfg->ifaces[i].mac) == 17);
    }
  for (int i = 0; i < cfg->n_addrs + cfg->n_gateways; i++)
    {
      const struct lodge_cfg_addr *a =
        i < cfg->n_addrs ? &cfg->addrs[i] : &cfg->gateways[i - cfg->n_addrs];
      int listed = 0;
      for (int j = 0; j < cfg->n_ifaces; j++)
        listed |= strcmp (a->iface, cfg->ifaces[j].name) == 0;
      CHECK (listed);
      CHECK (a->address[0] != '\0');
      CHECK (i < cfg->n_addrs ? a->prefix >= 0 && a->prefix <= 128 : a->prefix == -1);
    }
  for (int i = 0; i < cfg->n_apps; i++)
    {
      CHECK (cfg->apps[i].name[0] != '\0');
      check_string (cfg->apps[i].command);
    }
}

/* Nesting as deep as allowed at most, and no number but integers. */
static void
check_json (const json_t *v, int depth)
{
  CHECK (depth <= LODGE_JSON_MAX_DEPTH || (!json_is_array (v) && !json_is_object (v)));
  CHECK (!json_is_real (v));
  if (json_is_array (v))
    for (size_t i = 0; i < json_array_size (v); i++)
      check_json (json_array_get (v, i), depth + 1);
  const char *key;
  json_t *member;
  if (json_is_object (v))
    json_object_foreach ((json_t *) v, key, member)
      check_json (member, depth + 1);
}

/* @v written, loaded back equal, and written the same again. */
static void
check_round_trip (const json_t *v)
{
  struct lodge_buf b = { 0 }, again = { 0 };
  char err[256] = "";
  CHECK (lodge_json_dump (&b, v) == 0);
  json_t *back = lodge_json_load (b.data, b.len, err, sizeof err);
  if (back == NULL)
    fprintf (stderr, "written JSON does not load (%s): %.200s\n", err, b.data);
  CHECK (back != NULL);
  CHECK (json_equal (v, back));
  CHECK (lodge_json_dump (&again, back) == 0);
  CHECK (again.len == b.len && memcmp (again.data, b.data, b.len) == 0);
  json_decref (back);
  lodge_buf_clear (&b);
  lodge_buf_clear (&again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The configuration parser cuts its buffer into strings in place. */
  char *copy = malloc (size + 1);
  CHECK (copy != NULL);
  memcpy (copy, data, size);
  copy[size] = '\0';
  struct lodge_cfg cfg;
  char err[256] = "";
  if (lodge_cfg_parse (copy, size, &cfg, err, sizeof err) == 0)
    check_cfg (&cfg);
  else
    CHECK (err[0] != '\0'); /* a refusal says why */
  free (copy);

  err[0] = '\0';
  json_t *v = lodge_json_load ((const char *) data, size, err, sizeof err);
  if (v == NULL)
    CHECK (err[0] != '\0');
  else
    {
      check_json (v, 1);
      check_round_trip (v);
      json_decref (v);
    }

  /* Whatever the bytes of a C string (a host name, an os-release line), a
   * valid JSON string. */
  json_t *text = lodge_json_text ((const char *) data, strnlen ((const char *) data, size));
  CHECK (text != NULL);
  check_round_trip (text);
  json_decref (text);
  return 0;
}
