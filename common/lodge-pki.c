#include "lodge-pki.h"

#include <string.h>
#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

G_DEFINE_QUARK (lodge-pki-error-quark, lodge_pki_error)

/* The longest PEM text taken in (a request or certificate from the
 * network): a certificate with a 4096-bit key is under 3 KiB. */
#define PEM_MAX (64 * 1024)
#define CN_MAX 64

/* GnuTLS's handles, owned by g_autoptr. */
typedef struct gnutls_x509_crt_int PkiCrt;
typedef struct gnutls_x509_privkey_int PkiKey;
typedef struct gnutls_x509_crq_int PkiCrq;
typedef struct gnutls_pubkey_st PkiPub;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PkiCrt, gnutls_x509_crt_deinit)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PkiKey, gnutls_x509_privkey_deinit)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PkiCrq, gnutls_x509_crq_deinit)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PkiPub, gnutls_pubkey_deinit)

/* Sets @error from GnuTLS's @r (negative) with what was being done. */
static gboolean
pki_fail (GError **error, int code, int r, const char *what)
{
  g_set_error (error, LODGE_PKI_ERROR, code, "%s: %s", what, gnutls_strerror (r));
  return FALSE;
}

static char *
datum_to_string (gnutls_datum_t *d)
{
  char *s = g_strndup ((const char *) d->data, d->size);
  gnutls_free (d->data);
  d->data = NULL;
  return s;
}

static gboolean
pem_datum (const char *pem, const char *what, gnutls_datum_t *ret, GError **error)
{
  size_t len = pem != NULL ? strnlen (pem, PEM_MAX + 1) : 0;
  if (len == 0 || len > PEM_MAX)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID, "%s: %s", what,
                   len == 0 ? "empty" : "longer than 64 KiB");
      return FALSE;
    }
  ret->data = (unsigned char *) pem;
  ret->size = (unsigned int) len;
  return TRUE;
}

static gnutls_x509_crt_t
load_cert (const char *pem, const char *what, GError **error)
{
  gnutls_datum_t d;
  if (!pem_datum (pem, what, &d, error))
    return NULL;
  g_autoptr (PkiCrt) crt = NULL;
  int r = gnutls_x509_crt_init (&crt);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, what), NULL;
  if ((r = gnutls_x509_crt_import (crt, &d, GNUTLS_X509_FMT_PEM)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, what), NULL;
  return g_steal_pointer (&crt);
}

static gnutls_x509_privkey_t
load_key (const char *pem, const char *what, GError **error)
{
  gnutls_datum_t d;
  if (!pem_datum (pem, what, &d, error))
    return NULL;
  g_autoptr (PkiKey) key = NULL;
  int r = gnutls_x509_privkey_init (&key);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, what), NULL;
  if ((r = gnutls_x509_privkey_import (key, &d, GNUTLS_X509_FMT_PEM)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, what), NULL;
  return g_steal_pointer (&key);
}

static gboolean
check_cn (const char *cn, GError **error)
{
  if (cn == NULL || *cn == '\0' || strlen (cn) > CN_MAX)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                   "a certificate's name must be 1 to %d characters", CN_MAX);
      return FALSE;
    }
  for (const char *p = cn; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      {
        g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                     "certificate name '%s': only letters, digits, '-', '.' and '_'", cn);
        return FALSE;
      }
  return TRUE;
}

/* What every certificate made here has: version 3, a random serial, valid
 * from a minute ago (clocks of two hosts differ a little) for @days. */
static gboolean
set_common (gnutls_x509_crt_t crt, const char *cn, guint days, GError **error)
{
  unsigned char serial[16];
  int r = gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "random serial");
  serial[0] &= 0x7f; /* positive */
  serial[0] |= 0x01; /* and no leading zero byte */
  /* Valid from an hour ago: a host whose clock is behind the one that
   * signed (up to an hour: NTP not yet in step after a boot) still
   * accepts the certificate. */
  time_t now = time (NULL);
  if ((r = gnutls_x509_crt_set_version (crt, 3)) < 0
      || (r = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0
      || (r = gnutls_x509_crt_set_activation_time (crt, now - 3600)) < 0
      || (r = gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 86400)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "certificate fields");
  if (cn != NULL
      && (r = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen (cn))) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "certificate name");
  return TRUE;
}

static gboolean
set_key_ids (gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, GError **error)
{
  unsigned char id[64];
  size_t id_len = sizeof id;
  int r = gnutls_x509_crt_get_key_id (crt, 0, id, &id_len);
  if (r >= 0)
    r = gnutls_x509_crt_set_subject_key_id (crt, id, id_len);
  if (r >= 0 && issuer != NULL)
    {
      id_len = sizeof id;
      r = gnutls_x509_crt_get_subject_key_id (issuer, id, &id_len, NULL);
      if (r >= 0)
        r = gnutls_x509_crt_set_authority_key_id (crt, id, id_len);
    }
  return r < 0 ? pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "key identifiers") : TRUE;
}

static char *
export_cert (gnutls_x509_crt_t crt, GError **error)
{
  gnutls_datum_t d = { 0 };
  int r = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &d);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "exporting a certificate"), NULL;
  return datum_to_string (&d);
}

static char *
export_key (gnutls_x509_privkey_t key, GError **error)
{
  gnutls_datum_t d = { 0 };
  int r = gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &d);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "exporting a key"), NULL;
  return datum_to_string (&d);
}

gboolean
lodge_pki_make_ca (const char *cn, guint days, char **ret_cert_pem, char **ret_key_pem,
                   GError **error)
{
  /* A CA's name is a title ("Lodge cluster CA"), not a host's. */
  gboolean printable = cn != NULL && *cn != '\0' && strlen (cn) <= CN_MAX;
  for (const char *p = cn; printable && *p; p++)
    printable = g_ascii_isprint (*p);
  if (!printable)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                   "a CA's name must be 1 to %d printable characters", CN_MAX);
      return FALSE;
    }
  g_autoptr (PkiKey) key = NULL;
  g_autoptr (PkiCrt) crt = NULL;
  int r;
  if ((r = gnutls_x509_privkey_init (&key)) < 0
      || (r = gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP384R1), 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "making the CA's key");
  if ((r = gnutls_x509_crt_init (&crt)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "making the CA's certificate");
  if (!set_common (crt, cn, days, error))
    return FALSE;
  if ((r = gnutls_x509_crt_set_key (crt, key)) < 0
      || (r = gnutls_x509_crt_set_basic_constraints (crt, 1, 0)) < 0
      || (r = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the CA's certificate");
  if (!set_key_ids (crt, NULL, error))
    return FALSE;
  if ((r = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA384, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "signing the CA's certificate");
  g_autofree char *cert_pem = export_cert (crt, error);
  g_autofree char *key_pem = cert_pem != NULL ? export_key (key, error) : NULL;
  if (key_pem == NULL)
    return FALSE;
  *ret_cert_pem = g_steal_pointer (&cert_pem);
  *ret_key_pem = g_steal_pointer (&key_pem);
  return TRUE;
}

static gnutls_x509_privkey_t
make_host_key (GError **error)
{
  g_autoptr (PkiKey) key = NULL;
  int r;
  if ((r = gnutls_x509_privkey_init (&key)) < 0
      || (r = gnutls_x509_privkey_generate (key, GNUTLS_PK_RSA, 3072, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "making a host key"), NULL;
  return g_steal_pointer (&key);
}

gboolean
lodge_pki_make_request (const char *cn, char **ret_key_pem, char **ret_request_pem, GError **error)
{
  if (!check_cn (cn, error))
    return FALSE;
  g_autoptr (PkiKey) key = make_host_key (error);
  if (key == NULL)
    return FALSE;
  g_autoptr (PkiCrq) crq = NULL;
  int r;
  if ((r = gnutls_x509_crq_init (&crq)) < 0 || (r = gnutls_x509_crq_set_version (crq, 1)) < 0
      || (r = gnutls_x509_crq_set_dn_by_oid (crq, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen (cn))) < 0
      || (r = gnutls_x509_crq_set_key (crq, key)) < 0
      || (r = gnutls_x509_crq_sign2 (crq, key, GNUTLS_DIG_SHA256, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "making a certificate request");
  gnutls_datum_t d = { 0 };
  if ((r = gnutls_x509_crq_export2 (crq, GNUTLS_X509_FMT_PEM, &d)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "exporting a certificate request");
  g_autofree char *request = datum_to_string (&d);
  g_autofree char *key_pem = export_key (key, error);
  if (key_pem == NULL)
    return FALSE;
  *ret_key_pem = g_steal_pointer (&key_pem);
  *ret_request_pem = g_steal_pointer (&request);
  return TRUE;
}

/* A host certificate for the public key now in @crt (named @cn, @ip),
 * signed by the CA. */
static char *
finish_host_cert (gnutls_x509_crt_t crt, gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
                  const char *cn, const char *ip_address, guint days, GError **error)
{
  int r;
  if (!set_common (crt, cn, days, error))
    return NULL;
  if ((r = gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, cn, (unsigned) strlen (cn),
                                                 GNUTLS_FSAN_SET)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the certificate's DNS name"), NULL;
  if (ip_address != NULL)
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (ip_address);
      if (addr == NULL)
        {
          g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                       "'%s' is not an IP address", ip_address);
          return NULL;
        }
      if ((r = gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                                     g_inet_address_to_bytes (addr),
                                                     (unsigned) g_inet_address_get_native_size (addr),
                                                     GNUTLS_FSAN_APPEND)) < 0)
        return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the certificate's IP address"), NULL;
    }
  if ((r = gnutls_x509_crt_set_basic_constraints (crt, 0, -1)) < 0
      || (r = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE
                                                    | GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0
      || (r = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0
      || (r = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the certificate's uses"), NULL;
  if (!set_key_ids (crt, ca, error))
    return NULL;
  if ((r = gnutls_x509_crt_sign2 (crt, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "signing the certificate"), NULL;
  return export_cert (crt, error);
}

char *
lodge_pki_sign_request (const char *ca_cert_pem, const char *ca_key_pem, const char *request_pem,
                        const char *cn, const char *ip_address, guint days, GError **error)
{
  if (!check_cn (cn, error))
    return NULL;
  g_autoptr (PkiCrt) ca = load_cert (ca_cert_pem, "the CA's certificate", error);
  g_autoptr (PkiKey) ca_key = ca != NULL ? load_key (ca_key_pem, "the CA's key", error) : NULL;
  if (ca_key == NULL)
    return NULL;
  gnutls_datum_t d;
  if (!pem_datum (request_pem, "the certificate request", &d, error))
    return NULL;
  g_autoptr (PkiCrq) crq = NULL;
  int r = gnutls_x509_crq_init (&crq);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the certificate request"), NULL;
  if ((r = gnutls_x509_crq_import (crq, &d, GNUTLS_X509_FMT_PEM)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, "the certificate request"), NULL;
  if ((r = gnutls_x509_crq_verify (crq, 0)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, "the certificate request's signature"), NULL;
  char name[CN_MAX + 2];
  size_t name_len = sizeof name;
  r = gnutls_x509_crq_get_dn_by_oid (crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &name_len);
  if (r < 0 || strcmp (name, cn) != 0)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED,
                   "the certificate request is for '%s', not '%s'", r < 0 ? "no name" : name, cn);
      return NULL;
    }
  g_autoptr (PkiCrt) crt = NULL;
  if ((r = gnutls_x509_crt_init (&crt)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "the certificate"), NULL;
  /* The public key only: the name and every extension are the signer's. */
  g_autoptr (PkiPub) pub = NULL;
  if ((r = gnutls_pubkey_init (&pub)) < 0 || (r = gnutls_pubkey_import_x509_crq (pub, crq, 0)) < 0
      || (r = gnutls_x509_crt_set_pubkey (crt, pub)) < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, "the request's public key"), NULL;
  unsigned int bits = 0;
  int algo = gnutls_pubkey_get_pk_algorithm (pub, &bits);
  if (algo != GNUTLS_PK_RSA || bits < 2048 || bits > 8192)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED,
                   "the request's key must be RSA of 2048 to 8192 bits (libvirt's TLS needs key "
                   "encipherment)");
      return NULL;
    }
  return finish_host_cert (crt, ca, ca_key, cn, ip_address, days, error);
}

gboolean
lodge_pki_issue (const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                 const char *ip_address, guint days, char **ret_cert_pem, char **ret_key_pem,
                 GError **error)
{
  g_autofree char *key_pem = NULL, *request = NULL;
  if (!lodge_pki_make_request (cn, &key_pem, &request, error))
    return FALSE;
  char *cert = lodge_pki_sign_request (ca_cert_pem, ca_key_pem, request, cn, ip_address, days, error);
  if (cert == NULL)
    return FALSE;
  *ret_cert_pem = cert;
  *ret_key_pem = g_steal_pointer (&key_pem);
  return TRUE;
}

char *
lodge_pki_fingerprint (const char *cert_pem, GError **error)
{
  g_autoptr (PkiCrt) crt = load_cert (cert_pem, "certificate", error);
  if (crt == NULL)
    return NULL;
  unsigned char digest[32];
  size_t len = sizeof digest;
  int r = gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &len);
  if (r < 0 || len != sizeof digest)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "certificate fingerprint"), NULL;
  GString *hex = g_string_sized_new (2 * sizeof digest);
  for (size_t i = 0; i < sizeof digest; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

char *
lodge_pki_common_name (const char *cert_pem, GError **error)
{
  g_autoptr (PkiCrt) crt = load_cert (cert_pem, "certificate", error);
  if (crt == NULL)
    return NULL;
  char name[256];
  size_t len = sizeof name;
  int r = gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &len);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_INVALID, r, "certificate name"), NULL;
  return g_strdup (name);
}

gboolean
lodge_pki_verify (const char *ca_cert_pem, const char *cert_pem, GError **error)
{
  g_autoptr (PkiCrt) ca = load_cert (ca_cert_pem, "the CA's certificate", error);
  g_autoptr (PkiCrt) crt = ca != NULL ? load_cert (cert_pem, "certificate", error) : NULL;
  if (crt == NULL)
    return FALSE;
  unsigned int status = 0;
  int r = gnutls_x509_crt_verify (crt, &ca, 1, 0, &status);
  if (r < 0)
    return pki_fail (error, LODGE_PKI_ERROR_FAILED, r, "verifying the certificate");
  if (status != 0)
    {
      gnutls_datum_t out = { 0 };
      gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &out, 0);
      g_autofree char *why = datum_to_string (&out);
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED, "%s", why);
      return FALSE;
    }
  return TRUE;
}
