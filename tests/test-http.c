/* The API's answers as lodge-http.c builds them with json-glib: each error
 * domain's code and status, the message escaped, one JSON value and a
 * newline per answer; query parameters. No server: a request is only its
 * fields here. */
#include <string.h>

#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-http.h"
#include "lodge-libvirt.h"
#include "lodge-storage-error.h"

static char *
body_of (LodgeHttpRequest *r)
{
  g_assert_nonnull (r->response);
  return g_strndup (g_bytes_get_data (r->response, NULL), g_bytes_get_size (r->response));
}

static void
test_errors (void)
{
  const char *message = "unknown \"x\\y\" \x01 caf\xc3\xa9";
  const char *quoted = "\"unknown \\\"x\\\\y\\\" \\u0001 caf\xc3\xa9\"";
  const struct {
    GQuark domain;
    int code;
    guint status;
    const char *name;
  } cases[] = {
    { LODGE_ERROR, LODGE_ERROR_INVALID, 400, "invalid" },
    { LODGE_ERROR, LODGE_ERROR_CAPACITY, 409, "capacity" },
    { LODGE_ERROR, LODGE_ERROR_IO, 500, "failed" },
    { LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND, 404, "not-found" },
    { LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY, 409, "conflict" },
    { LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS, 409, "conflict" },
    { LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE, 503, "unavailable" },
    { LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID, 400, "invalid" },
    { LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE, 409, "conflict" },
    { LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT, 503, "unavailable" },
    { LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_NOT_FOUND, 404, "not-found" },
    { G_IO_ERROR, G_IO_ERROR_FAILED, 500, "failed" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      LodgeHttpRequest r = { 0 };
      g_autoptr (GError) error = g_error_new_literal (cases[i].domain, cases[i].code, message);
      lodge_http_respond_error (&r, error);
      g_autofree char *body = body_of (&r);
      g_autofree char *want = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":%s}}\n",
                                               cases[i].name, quoted);
      g_assert_cmpuint (r.status, ==, cases[i].status);
      g_assert_cmpstr (r.content_type, ==, "application/json");
      g_assert_cmpstr (body, ==, want);
      g_bytes_unref (r.response);
    }
}

static void
test_answers (void)
{
  LodgeHttpRequest r = { 0 };
  lodge_http_respond_json (&r, 201, g_strdup ("{\"a\":1}"));
  g_autofree char *one = body_of (&r);
  g_assert_cmpuint (r.status, ==, 201);
  g_assert_cmpstr (one, ==, "{\"a\":1}\n");

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "web \"1\"");
  json_builder_set_member_name (b, "created");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "record");
  g_autoptr (GBytes) record = g_bytes_new_static ("{\"x\":[1,2.5,\"y\"]}", 17);
  json_builder_add_value (b, lodge_http_json_node (record));
  json_builder_end_object (b);
  lodge_http_respond_built (&r, 200, b);
  g_autofree char *two = body_of (&r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (two, ==, "{\"name\":\"web \\\"1\\\"\",\"created\":false,\"record\":{\"x\":[1,2.5,\"y\"]}}\n");
  g_bytes_unref (r.response);
}

static void
test_query (void)
{
  LodgeHttpRequest r = { 0 };
  g_assert_null (lodge_http_query (&r, "force"));
  g_assert_false (lodge_http_query_yes (&r, "force"));
  r.query = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (r.query, "force", "yes");
  g_hash_table_insert (r.query, "storage", "1");
  g_hash_table_insert (r.query, "other", "no");
  g_assert_true (lodge_http_query_yes (&r, "force"));
  g_assert_true (lodge_http_query_yes (&r, "storage"));
  g_assert_false (lodge_http_query_yes (&r, "other"));
  g_assert_cmpstr (lodge_http_query (&r, "other"), ==, "no");
  g_hash_table_unref (r.query);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/errors", test_errors);
  g_test_add_func ("/http/answers", test_answers);
  g_test_add_func ("/http/query", test_query);
  return g_test_run ();
}
