#include "lodge-api-join.h"

#include <string.h>

#include "lodge-join.h"
#include "lodge-records.h"
#include "lodge-storage-error.h"

gboolean
lodge_api_join_is_open (const char *method, const char *path)
{
  return (strcmp (method, "GET") == 0 && strcmp (path, "/v1/join/ca") == 0)
         || (strcmp (method, "POST") == 0 && strcmp (path, "/v1/join") == 0);
}

static void
respond_refusal (LodgeHttpRequest *r, const GError *error)
{
  if (g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_PERMISSION))
    return lodge_http_respond_error_code (r, 403, "forbidden", error->message);
  lodge_http_respond_error (r, error);
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n)
           : NULL;
}

static void
join (LodgeHttpRequest *r, LodgeStore *store, const LodgeApiJoin *api_join)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *args = NULL;
  if (!lodge_http_body_object (r, parser, &args))
    return;
  if (args == NULL)
    return lodge_http_respond_error_code (r, 400, "invalid", "POST /v1/join needs a JSON body");
  const char *token = member_string (args, "token");
  const char *role = member_string (args, "role");
  int join_role = role != NULL ? lodge_join_role_from_string (role) : -1;
  if (token == NULL || join_role < 0)
    return lodge_http_respond_error_code (r, 400, "invalid",
                                          "a join needs \"token\" and \"role\" (node or controller)");
  g_auto (LodgeJoinRequest) request = { 0 };
  request.role = join_role;
  request.name = g_strdup (member_string (args, "name"));
  request.address = g_strdup (member_string (args, "address"));
  request.request = g_strdup (member_string (args, "request"));
  if (request.name == NULL || request.address == NULL || request.request == NULL)
    return lodge_http_respond_error_code (r, 400, "invalid",
                                          "a join needs \"name\", \"address\" and \"request\" (a "
                                          "certificate request, PEM)");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeJoinGrant) grant
    = lodge_join_grant (store, lodge_store_get_rados (store), token, &request, api_join->ceph_user,
                        api_join->ceph_key, &error);
  if (grant == NULL)
    {
      g_message ("join: %s '%s' at %s refused: %s", role, request.name, request.address, error->message);
      return respond_refusal (r, error);
    }
  g_message ("join: %s '%s' at %s joined (Ceph identity client.%s)", role, grant->name,
             request.address, grant->ceph_user);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, grant->name);
  json_builder_set_member_name (b, "certificate");
  json_builder_add_string_value (b, grant->certificate);
  json_builder_set_member_name (b, "ca");
  json_builder_add_string_value (b, grant->ca);
  json_builder_set_member_name (b, "ceph");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, grant->ceph_user);
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, grant->ceph_key);
  json_builder_set_member_name (b, "monitors");
  json_builder_begin_array (b);
  for (char **m = grant->monitors; *m != NULL; m++)
    json_builder_add_string_value (b, *m);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

void
lodge_api_join_route (LodgeHttpRequest *r, LodgeStore *store, const LodgeApiJoin *api_join)
{
  const char *third = r->parts[2];
  if (third == NULL && strcmp (r->method, "POST") == 0)
    return join (r, store, api_join);
  if (g_strcmp0 (third, "ca") == 0 && r->parts[3] == NULL && strcmp (r->method, "GET") == 0)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *ca = NULL;
      if (!lodge_join_load_ca (store, &ca, NULL, &error))
        return lodge_http_respond_error (r, error);
      gsize len = strlen (ca);
      return lodge_http_respond (r, 200, "application/x-pem-file", g_bytes_new_take (g_steal_pointer (&ca), len));
    }
  lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}

static void
add_token (JsonBuilder *b, const LodgeJoinToken *t)
{
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, t->id);
  lodge_join_token_build (b, t);
}

static void
create_token (LodgeHttpRequest *r, LodgeStore *store)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *args = NULL;
  if (!lodge_http_body_object (r, parser, &args))
    return;
  const char *role = args != NULL ? member_string (args, "role") : NULL;
  int join_role = role != NULL ? lodge_join_role_from_string (role) : -1;
  if (join_role < 0)
    return lodge_http_respond_error_code (r, 400, "invalid",
                                          "a join token needs \"role\": node or controller");
  const char *name = member_string (args, "name");
  JsonNode *ttl_node = json_object_get_member (args, "ttl");
  gint64 ttl = LODGE_JOIN_DEFAULT_TTL_S;
  if (ttl_node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (ttl_node) || json_node_get_value_type (ttl_node) != G_TYPE_INT64)
        return lodge_http_respond_error_code (r, 400, "invalid", "\"ttl\" is a number of seconds");
      ttl = json_node_get_int (ttl_node);
      if (ttl < 1 || ttl > LODGE_JOIN_MAX_TTL_S)
        {
          g_autofree char *msg = g_strdup_printf ("\"ttl\" must be 1 to %d seconds", LODGE_JOIN_MAX_TTL_S);
          return lodge_http_respond_error_code (r, 400, "invalid", msg);
        }
    }
  g_autofree char *by = lodge_http_requester (r);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeJoinToken) t = lodge_join_token_create (store, join_role, name, (guint) ttl, by, &text, &error);
  if (t == NULL)
    return lodge_http_respond_error (r, error);
  g_message ("join token %s made by %s for a %s%s%s, %" G_GINT64_FORMAT " s", t->id, by, role,
             name != NULL ? " named " : "", name != NULL ? name : "", ttl);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_token (b, t);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  memset (text, 0, strlen (text));
  lodge_http_respond_built (r, 201, b);
}

void
lodge_api_join_tokens_route (LodgeHttpRequest *r, LodgeStore *store)
{
  const char *id = r->parts[2];
  g_autoptr (GError) error = NULL;
  if (id == NULL && strcmp (r->method, "GET") == 0)
    {
      g_autoptr (GPtrArray) tokens = lodge_join_token_list (store, &error);
      if (tokens == NULL)
        return lodge_http_respond_error (r, error);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < tokens->len; i++)
        {
          json_builder_begin_object (b);
          add_token (b, tokens->pdata[i]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      return lodge_http_respond_built (r, 200, b);
    }
  if (id == NULL && strcmp (r->method, "POST") == 0)
    return create_token (r, store);
  if (id != NULL && r->parts[3] == NULL && strcmp (r->method, "DELETE") == 0)
    {
      if (!lodge_join_token_delete (store, id, &error))
        return lodge_http_respond_error (r, error);
      return lodge_http_respond_json (r, 200, g_strdup ("{}"));
    }
  lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}

/* DELETE /v1/nodes/NAME: a host that left the cluster for good. Only a
 * node that is down (its agent stopped: drain it first) and has no VE on
 * it or moving to it; its records and Ceph identity go. */
void
lodge_api_join_remove_node (LodgeHttpRequest *r, LodgeCtl *ctl, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, &error);
  g_autoptr (GPtrArray) list = nodes != NULL ? lodge_ctl_list (ctl, &error) : NULL;
  if (list == NULL)
    return lodge_http_respond_error (r, error);
  const LodgeNodeRecord *node = lodge_ctl_find_node (nodes, name);
  if (node == NULL)
    return lodge_http_respond_error_code (r, 404, "not-found", "no such node");
  if (node->state != LODGE_NODE_DOWN && node->state != LODGE_NODE_FENCED)
    {
      g_autofree char *msg = g_strdup_printf ("node %s is %s: drain it, stop lodge-agent there, then remove it",
                                              name, lodge_node_state_to_string (node->state));
      return lodge_http_respond_error_code (r, 409, "conflict", msg);
    }
  g_autoptr (GString) on = g_string_new (NULL);
  for (guint i = 0; i < list->len; i++)
    {
      const LodgeRuntimeRecord *rt = list->pdata[i];
      gboolean placed = rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED;
      if (placed && (g_strcmp0 (rt->node, name) == 0 || g_strcmp0 (rt->target_node, name) == 0))
        g_string_append_printf (on, "%s%s", on->len > 0 ? ", " : "", rt->name);
    }
  if (on->len > 0)
    {
      g_autofree char *msg = g_strdup_printf ("node %s still has VEs on it: %s (let them fail over, or stop "
                                              "them, first)", name, on->str);
      return lodge_http_respond_error_code (r, 409, "conflict", msg);
    }
  LodgeStore *store = lodge_ctl_get_store (ctl);
  if (!lodge_join_forget_node (store, lodge_store_get_rados (store), name, &error))
    return lodge_http_respond_error (r, error);
  g_autofree char *who = lodge_http_requester (r);
  g_message ("node %s removed by %s: its records and Ceph identity are gone", name, who);
  lodge_http_respond_json (r, 200, g_strdup ("{}"));
}
