/* The guest agent's JSON (images/guestinit/json.c: jansson, bounded) and
 * base64 (buf.c), in-process where the sanitizers see them. The agent
 * itself, over its channel: test-guestagent.c. (jansson's names clash with
 * json-glib's, hence a binary of its own.) */
#include <string.h>
#include <glib.h>

#include "json.h"

static char *
dump (const json_t *v)
{
  struct lodge_buf b = { 0 };
  g_assert_cmpint (lodge_json_dump (&b, v), ==, 0);
  char *s = g_strndup (b.data, b.len);
  lodge_buf_clear (&b);
  return s;
}

static void
test_load (void)
{
  char err[256];
  const char *good = " {\"a\":[1,-2,true,false,null,\"x\\u00e9\\n\"],\"b\":{}} ";
  json_t *v = lodge_json_load (good, strlen (good), err, sizeof err);
  g_assert_nonnull (v);
  g_autofree char *back = dump (v);
  g_assert_cmpstr (back, ==, "{\"a\":[1,-2,true,false,null,\"x\xc3\xa9\\n\"],\"b\":{}}");
  g_assert_cmpint (json_integer_value (json_array_get (json_object_get (v, "a"), 1)), ==, -2);
  json_decref (v);

  const char *limits[] = { "-9223372036854775808", "9223372036854775807" };
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    {
      v = lodge_json_load (limits[i], strlen (limits[i]), err, sizeof err);
      g_assert_nonnull (v);
      g_autofree char *text = dump (v);
      g_assert_cmpstr (text, ==, limits[i]);
      json_decref (v);
    }
  const char *bad[] = { "", "[", "{\"a\"", "{\"a\":}", "[1,]", "\"abc", "\"\\", "\"\\u12",
                        "9223372036854775808", "-", "01x", "[1] 2", "nul", "\"\\udc00\"",
                        "\"\\ud800\\u0041\"", "\"\\u0000\"", "{\"a\":1,\"a\":2}", "\"\xff\"" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      err[0] = '\0';
      v = lodge_json_load (bad[i], strlen (bad[i]), err, sizeof err);
      if (v != NULL)
        g_error ("'%s' was accepted", bad[i]);
      g_assert_cmpstr (err, !=, "");
    }
  /* Every prefix of a valid document is refused or parsed, never a crash. */
  for (gsize i = 0; i < strlen (good); i++)
    json_decref (lodge_json_load (good, i, err, sizeof err));
}

/* Refused with @part in the reason. */
static void
assert_refused (const char *text, gsize len, const char *part)
{
  char err[256] = "";
  json_t *v = lodge_json_load (text, len, err, sizeof err);
  if (v != NULL)
    g_error ("'%.60s' was accepted", text);
  if (strstr (err, part) == NULL)
    g_error ("'%s' does not say '%s'", err, part);
}

static void
test_limits (void)
{
  /* 32 arrays in each other are fine, 33 are not (jansson alone takes 2048). */
  GString *deep = g_string_new (NULL);
  for (int i = 0; i < 32; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 32; i++)
    g_string_append_c (deep, ']');
  char err[256];
  json_t *v = lodge_json_load (deep->str, deep->len, err, sizeof err);
  g_assert_nonnull (v);
  json_decref (v);
  g_string_prepend (deep, "{\"a\":");
  g_string_append (deep, "}");
  assert_refused (deep->str, deep->len, "nested too deeply");
  /* Brackets in strings are no nesting, an escaped quote ends no string. */
  g_autofree char *brackets = g_strnfill (40, '[');
  g_autofree char *in_string = g_strdup_printf ("[\"\\\"%s\"]", brackets);
  v = lodge_json_load (in_string, strlen (in_string), err, sizeof err);
  g_assert_nonnull (v);
  json_decref (v);
  g_string_free (deep, TRUE);

  GString *many = g_string_new ("[0");
  for (int i = 1; i < LODGE_JSON_MAX_VALUES - 1; i++)
    g_string_append (many, ",0");
  g_string_append_c (many, ']');
  v = lodge_json_load (many->str, many->len, err, sizeof err);
  g_assert_nonnull (v);
  g_assert_cmpuint (json_array_size (v), ==, LODGE_JSON_MAX_VALUES - 1);
  json_decref (v);
  g_string_insert (many, 1, "0,");
  assert_refused (many->str, many->len, "too many values");
  g_string_free (many, TRUE);

  gsize big = LODGE_JSON_MAX_BYTES + 1;
  g_autofree char *huge = g_malloc (big);
  memset (huge, ' ', big);
  huge[0] = '1';
  assert_refused (huge, big, "over the limit");
  v = lodge_json_load (huge, big - 1, err, sizeof err);
  g_assert_nonnull (v);
  json_decref (v);

  /* jansson's words, with what they mean where they do not say it. */
  assert_refused ("99999999999999999999", 20, "number out of range");
  assert_refused ("\"\\ud800\"", 8, "surrogate");
  assert_refused ("\"\\udc00x\"", 9, "surrogate");
  assert_refused ("\"\\u0000\"", 8, "\\u0000");
  assert_refused ("\"\\x\"", 4, "escape");
  assert_refused ("\"a\tb\"", 5, "control character");
  assert_refused ("{\"a\":1,\"a\":2}", 13, "duplicate");
  /* Integers only, as the agent always took them; letters are no numbers. */
  assert_refused ("[1.5]", 5, "only integer numbers");
  assert_refused ("{\"id\":2e3}", 10, "only integer numbers");
  assert_refused ("-1E+2", 5, "only integer numbers");
  v = lodge_json_load ("[true,false,\"1.5e3\"]", 20, err, sizeof err);
  g_assert_nonnull (v);
  json_decref (v);
}

static void
test_write (void)
{
  json_t *s = lodge_json_text ("q\"\\\x01\x7f\n\t/", 8);
  g_autofree char *text = dump (s);
  /* Control characters escaped; DEL and '/' are not JSON's to escape. */
  g_assert_cmpstr (text, ==, "\"q\\\"\\\\\\u0001\x7f\\n\\t/\"");
  json_decref (s);

  /* Not UTF-8: each bad byte becomes U+FFFD, the rest stays. */
  static const struct {
    const char *in, *out;
  } texts[] = {
    { "host\xff", "\"host\xef\xbf\xbd\"" },
    { "cut \xc3", "\"cut \xef\xbf\xbd\"" },
    { "over\xc0\xaflong", "\"over\xef\xbf\xbd\xef\xbf\xbdlong\"" },
    { "sur\xed\xa0\x80", "\"sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
    { "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
    { "ok \xf0\x9f\x98\x80 \xc3\xa9", "\"ok \xf0\x9f\x98\x80 \xc3\xa9\"" },
    { "", "\"\"" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      json_t *t = lodge_json_str (texts[i].in);
      g_assert_nonnull (t);
      g_autofree char *out = dump (t);
      g_assert_cmpstr (out, ==, texts[i].out);
      json_decref (t);
    }
  /* A NUL inside is kept, escaped. */
  json_t *nul = lodge_json_text ("a\0b", 3);
  g_autofree char *nul_text = dump (nul);
  g_assert_cmpstr (nul_text, ==, "\"a\\u0000b\"");
  json_decref (nul);

  /* Objects keep their order, with no spaces. */
  json_t *o = json_pack ("{s:i,s:o,s:n,s:b}", "z", 1, "a", lodge_json_str ("x"), "m", "t", 1);
  g_autofree char *ordered = dump (o);
  g_assert_cmpstr (ordered, ==, "{\"z\":1,\"a\":\"x\",\"m\":null,\"t\":true}");
  json_decref (o);
}

static void
test_base64 (void)
{
  for (gsize len = 0; len < 64; len++)
    {
      guchar data[64];
      for (gsize i = 0; i < len; i++)
        data[i] = (guchar) (i * 37 + len);
      char *mine = lodge_base64_encode (data, len);
      g_autofree char *glib = g_base64_encode (data, len);
      g_assert_cmpstr (mine, ==, glib);
      free (mine);
      json_t *s = lodge_json_base64 (data, len);
      g_assert_cmpstr (json_string_value (s), ==, glib);
      json_decref (s);
      size_t dlen;
      unsigned char *back = lodge_base64_decode (glib, strlen (glib), &dlen);
      g_assert_cmpmem (back, dlen, data, len);
      free (back);
    }
  size_t dlen;
  g_assert_null (lodge_base64_decode ("a", 1, &dlen));
  g_assert_null (lodge_base64_decode ("ab$d", 4, &dlen));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guestjson/load", test_load);
  g_test_add_func ("/guestjson/limits", test_limits);
  g_test_add_func ("/guestjson/write", test_write);
  g_test_add_func ("/guestjson/base64", test_base64);
  return g_test_run ();
}
