/* lodge-pki: the cluster CA, a host's request, the CA's signature, read
 * back with GnuTLS itself. */
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "lodge-pki.h"

typedef struct {
  char *ca_cert;
  char *ca_key;
} Fixture;

/* One CA for the whole run (an ECDSA key is quick, but no need to redo it). */
static Fixture ca;

static gnutls_x509_crt_t
parse (const char *pem)
{
  gnutls_x509_crt_t crt;
  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  gnutls_datum_t d = { (unsigned char *) pem, (unsigned) strlen (pem) };
  g_assert_cmpint (gnutls_x509_crt_import (crt, &d, GNUTLS_X509_FMT_PEM), ==, 0);
  return crt;
}

static void
test_ca (void)
{
  gnutls_x509_crt_t crt = parse (ca.ca_cert);
  unsigned int critical = 0;
  g_assert_cmpint (gnutls_x509_crt_get_basic_constraints (crt, &critical, NULL, NULL), ==, 1);
  unsigned int usage = 0;
  g_assert_cmpint (gnutls_x509_crt_get_key_usage (crt, &usage, NULL), >=, 0);
  g_assert_true (usage & GNUTLS_KEY_KEY_CERT_SIGN);
  /* Valid from an hour ago: a host whose clock is behind accepts it. */
  time_t now = time (NULL);
  g_assert_cmpint (gnutls_x509_crt_get_activation_time (crt), <=, now - 3600);
  g_assert_cmpint (gnutls_x509_crt_get_activation_time (crt), >=, now - 3600 - 300);
  gnutls_x509_crt_deinit (crt);
  g_autoptr (GError) error = NULL;
  g_autofree char *cn = lodge_pki_common_name (ca.ca_cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cn, ==, "Lodge test CA");
  g_autofree char *fp = lodge_pki_fingerprint (ca.ca_cert, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (fp), ==, 64);
  for (const char *p = fp; *p; p++)
    g_assert_true (g_ascii_isxdigit (*p) && !g_ascii_isupper (*p));
  /* Its own signature verifies. */
  g_assert_true (lodge_pki_verify (ca.ca_cert, ca.ca_cert, &error));
  g_assert_no_error (error);
}

static void
test_sign_request (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL, *request = NULL;
  g_assert_true (lodge_pki_make_request ("node4", &key, &request, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (request, "-----BEGIN NEW CERTIFICATE REQUEST-----"));
  g_assert_nonnull (strstr (key, "PRIVATE KEY-----"));
  g_autofree char *cert = lodge_pki_sign_request (ca.ca_cert, ca.ca_key, request, "node4", "10.77.1.14",
                                                  30, &error);
  g_assert_no_error (error);
  g_assert_true (lodge_pki_verify (ca.ca_cert, cert, &error));
  g_assert_no_error (error);
  gnutls_x509_crt_t crt = parse (cert);
  g_assert_cmpint (gnutls_x509_crt_get_activation_time (crt), <=, time (NULL) - 3600);
  g_assert_true (gnutls_x509_crt_check_hostname2 (crt, "node4", 0));
  g_assert_false (gnutls_x509_crt_check_hostname2 (crt, "node5", 0));
  unsigned char ip[4];
  g_assert_cmpint (inet_pton (AF_INET, "10.77.1.14", ip), ==, 1);
  g_assert_true (gnutls_x509_crt_check_ip (crt, ip, sizeof ip, 0));
  g_assert_cmpint (inet_pton (AF_INET, "10.77.1.15", ip), ==, 1);
  g_assert_false (gnutls_x509_crt_check_ip (crt, ip, sizeof ip, 0));
  unsigned int critical = 0, is_ca = 1;
  g_assert_cmpint (gnutls_x509_crt_get_basic_constraints (crt, &critical, &is_ca, NULL), ==, 0);
  /* For TLS servers and clients (libvirt's server and client ends). */
  char oid[128];
  gboolean server = FALSE, client = FALSE;
  for (unsigned i = 0;; i++)
    {
      size_t len = sizeof oid;
      if (gnutls_x509_crt_get_key_purpose_oid (crt, i, oid, &len, NULL) < 0)
        break;
      server |= strcmp (oid, GNUTLS_KP_TLS_WWW_SERVER) == 0;
      client |= strcmp (oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0;
    }
  g_assert_true (server && client);
  unsigned int usage = 0;
  g_assert_cmpint (gnutls_x509_crt_get_key_usage (crt, &usage, NULL), >=, 0);
  g_assert_true (usage & GNUTLS_KEY_KEY_ENCIPHERMENT);
  /* Its public key is the request's: the key made with the request signs. */
  gnutls_x509_privkey_t priv;
  g_assert_cmpint (gnutls_x509_privkey_init (&priv), ==, 0);
  gnutls_datum_t kd = { (unsigned char *) key, (unsigned) strlen (key) };
  g_assert_cmpint (gnutls_x509_privkey_import (priv, &kd, GNUTLS_X509_FMT_PEM), ==, 0);
  unsigned char a[64], b[64];
  size_t alen = sizeof a, blen = sizeof b;
  g_assert_cmpint (gnutls_x509_privkey_get_key_id (priv, 0, a, &alen), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_get_key_id (crt, 0, b, &blen), ==, 0);
  g_assert_cmpmem (a, alen, b, blen);
  gnutls_x509_privkey_deinit (priv);
  gnutls_x509_crt_deinit (crt);
}

static void
test_refused (void)
{
  g_autofree char *key = NULL, *request = NULL;
  g_assert_true (lodge_pki_make_request ("node4", &key, &request, NULL));
  g_autoptr (GError) error = NULL;
  /* Another name than the request's. */
  g_autofree char *other = lodge_pki_sign_request (ca.ca_cert, ca.ca_key, request, "node5", NULL, 30, &error);
  g_assert_null (other);
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "'node4', not 'node5'"));
  g_clear_error (&error);
  /* Not an IP address. */
  g_autofree char *bad_ip = lodge_pki_sign_request (ca.ca_cert, ca.ca_key, request, "node4", "10.77.1", 30, &error);
  g_assert_null (bad_ip);
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID);
  g_clear_error (&error);
  /* A request whose signature no longer matches (one byte of its body
   * changed, inside the name). */
  g_autofree char *tampered = g_strdup (request);
  char *body = strchr (tampered, '\n') + 1;
  body[40] = body[40] == 'A' ? 'B' : 'A';
  g_autofree char *forged = lodge_pki_sign_request (ca.ca_cert, ca.ca_key, tampered, "node4", NULL, 30, &error);
  g_assert_null (forged);
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID);
  g_clear_error (&error);
  /* Garbage, an empty string, a name with a slash. */
  g_assert_null (lodge_pki_sign_request (ca.ca_cert, ca.ca_key, "not pem", "node4", NULL, 30, &error));
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (lodge_pki_sign_request (ca.ca_cert, ca.ca_key, "", "node4", NULL, 30, &error));
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (lodge_pki_make_request ("../node4", &key, &request, &error));
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID);
  g_clear_error (&error);
}

/* A certificate of another CA does not verify against this one. */
static void
test_other_ca (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other_cert = NULL, *other_key = NULL, *cert = NULL, *key = NULL;
  g_assert_true (lodge_pki_make_ca ("Other CA", 30, &other_cert, &other_key, &error));
  g_assert_true (lodge_pki_issue (other_cert, other_key, "ctl9", "10.77.1.9", 30, &cert, &key, &error));
  g_assert_no_error (error);
  g_assert_true (lodge_pki_verify (other_cert, cert, NULL));
  g_assert_false (lodge_pki_verify (ca.ca_cert, cert, &error));
  g_assert_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED);
  g_autofree char *a = lodge_pki_fingerprint (ca.ca_cert, NULL);
  g_autofree char *b = lodge_pki_fingerprint (other_cert, NULL);
  g_assert_cmpstr (a, !=, b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  if (!lodge_pki_make_ca ("Lodge test CA", 30, &ca.ca_cert, &ca.ca_key, &error))
    g_error ("making the test CA: %s", error->message);
  g_test_add_func ("/pki/ca", test_ca);
  g_test_add_func ("/pki/sign-request", test_sign_request);
  g_test_add_func ("/pki/refused", test_refused);
  g_test_add_func ("/pki/other-ca", test_other_ca);
  int r = g_test_run ();
  g_free (ca.ca_cert);
  g_free (ca.ca_key);
  return r;
}
