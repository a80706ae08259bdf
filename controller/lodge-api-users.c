#include "lodge-api-users.h"

#include <string.h>

#include "lodge-access.h"
#include "lodge-customers.h"
#include "lodge-env.h"
#include "lodge-error.h"

/* A definition without its secrets (the root password hash, the
 * authorized keys): what a user who is not an admin sees. */
GBytes *
lodge_api_redacted_definition (GBytes *xml, GError **error)
{
  gsize len = 0;
  const char *text = g_bytes_get_data (xml, &len);
  g_autoptr (LodgeEnvDef) def = lodge_env_def_parse (text, len, "the stored definition", error);
  if (def == NULL)
    return NULL;
  gboolean hidden = def->root_password_hash != NULL
                    || (def->authorized_keys != NULL && def->authorized_keys->len > 0);
  g_clear_pointer (&def->root_password_hash, g_free);
  if (def->authorized_keys != NULL)
    g_ptr_array_set_size (def->authorized_keys, 0);
  g_autofree char *out = lodge_env_def_format (def);
  if (out == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "cannot format the definition");
      return NULL;
    }
  if (hidden)
    {
      /* After the XML declaration, if any: the comment says what is missing. */
      const char *body = g_str_has_prefix (out, "<?xml") ? strchr (out, '\n') : NULL;
      g_autofree char *with = body != NULL
        ? g_strdup_printf ("%.*s\n<!-- root credential (password hash, authorized keys) hidden: only an admin sees it -->%s",
                           (int) (body - out), out, body)
        : g_strdup_printf ("<!-- root credential (password hash, authorized keys) hidden: only an admin sees it -->\n%s", out);
      gsize with_len = strlen (with);
      return g_bytes_new_take (g_steal_pointer (&with), with_len);
    }
  gsize out_len = strlen (out);
  return g_bytes_new_take (g_steal_pointer (&out), out_len);
}

static void
add_user_json (JsonBuilder *b, const char *name, const char *role)
{
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
}

/* GET /v1/users, POST /v1/users {"name", "role"}, DELETE /v1/users/NAME:
 * admins only (lodge-access.c). */
void
lodge_api_users_route (LodgeHttpRequest *r, LodgeUsers *users)
{
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (r->parts);
  if (n == 2 && strcmp (r->method, "GET") == 0)
    {
      g_autoptr (GPtrArray) list = lodge_users_list (users, &error);
      if (list == NULL)
        return lodge_http_respond_error (r, error);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          LodgeUser *u = list->pdata[i];
          json_builder_begin_object (b);
          add_user_json (b, u->name, lodge_role_to_string (u->role));
          json_builder_set_member_name (b, "created_by");
          json_builder_add_string_value (b, u->created_by);
          json_builder_set_member_name (b, "created_us");
          json_builder_add_int_value (b, u->created_us);
          lodge_user_limits_to_json (b, u);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      return lodge_http_respond_built (r, 200, b);
    }
  if (n == 2 && strcmp (r->method, "POST") == 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *args = NULL;
      if (!lodge_http_body_object (r, parser, &args))
        return;
      const char *name = args != NULL ? json_object_get_string_member_with_default (args, "name", NULL) : NULL;
      const char *role = args != NULL ? json_object_get_string_member_with_default (args, "role", NULL) : NULL;
      int role_id = role != NULL ? lodge_role_from_string (role) : -1;
      if (name == NULL || role == NULL)
        return lodge_http_respond_error_code (r, 400, "invalid",
                                              "a new user needs {\"name\": NAME, \"role\": ROLE}");
      if (role_id < 0)
        {
          g_autofree char *shown = g_strescape (role, NULL);
          g_autofree char *message = g_strdup_printf ("unknown role '%s' (admin, operator, support, viewer or customer)",
                                                      shown);
          return lodge_http_respond_error_code (r, 400, "invalid", message);
        }
      g_autofree char *who = lodge_http_requester (r);
      g_autofree char *token = NULL;
      g_autoptr (LodgeUser) spec = lodge_user_new (name, (LodgeRole) role_id);
      if (!lodge_user_limits_from_json (args, spec, &error)
          || !lodge_users_add (users, spec, who, &token, &error))
        return lodge_http_respond_error (r, error);
      g_message ("user %s added (%s) by %s", name, role, who);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_user_json (b, name, role);
      json_builder_set_member_name (b, "token");
      json_builder_add_string_value (b, token);
      json_builder_end_object (b);
      return lodge_http_respond_built (r, 201, b);
    }
  if (n == 3 && strcmp (r->method, "PATCH") == 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *args = NULL;
      if (!lodge_http_body_object (r, parser, &args))
        return;
      g_autofree char *who = lodge_http_requester (r);
      if (!lodge_access_check_user_name (r->parts[2], &error)
          || !lodge_users_patch_limits (users, r->parts[2], args, &error))
        return lodge_http_respond_error (r, error);
      g_autoptr (LodgeUser) now = lodge_users_get (users, r->parts[2]);
      g_message ("user %s's limits changed by %s", r->parts[2], who);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_user_json (b, r->parts[2], now != NULL ? lodge_role_to_string (now->role) : "customer");
      if (now != NULL)
        lodge_user_limits_to_json (b, now);
      json_builder_end_object (b);
      return lodge_http_respond_built (r, 200, b);
    }
  if (n == 3 && strcmp (r->method, "DELETE") == 0)
    {
      g_autofree char *who = lodge_http_requester (r);
      if (!lodge_access_check_user_name (r->parts[2], &error)
          || !lodge_users_remove (users, r->parts[2], &error))
        return lodge_http_respond_error (r, error);
      g_message ("user %s removed by %s", r->parts[2], who);
      return lodge_http_respond_json (r, 200, g_strdup ("{}"));
    }
  lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}

/* GET /v1/whoami: the identity the request was authenticated as; for a
 * customer, also its limits and what its VEs use of them ("used"). */
void
lodge_api_whoami_route (LodgeHttpRequest *r, LodgeUsers *users, LodgeCtl *ctl)
{
  const LodgeIdentity *id = g_object_get_data (G_OBJECT (r->msg), LODGE_HTTP_IDENTITY);
  g_autoptr (LodgeUser) user = id->role == LODGE_ROLE_CUSTOMER ? lodge_users_get (users, id->name) : NULL;
  g_autoptr (GError) error = NULL;
  LodgeUsage usage;
  if (user != NULL && !lodge_customer_usage (ctl, user->name, NULL, &usage, &error))
    return lodge_http_respond_error (r, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_user_json (b, id->name, lodge_role_to_string (id->role));
  if (user != NULL)
    {
      lodge_user_limits_to_json (b, user);
      json_builder_set_member_name (b, "used");
      json_builder_begin_object (b);
      for (int q = 0; q < LODGE_QUOTA_LAST; q++)
        {
          json_builder_set_member_name (b, lodge_quota_to_string (q));
          json_builder_add_int_value (b, usage.used[q]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

