/* The cluster's certificates, made with GnuTLS: the cluster CA, a host's
 * key and certificate request (made on the host: its key never leaves it),
 * and the CA's signature on a request, with the names the signer decides
 * (never the request's own extensions). Everything is PEM text in and
 * out. A library of its own (lodge-pki): common links GLib and libxml2
 * only. Errors are LODGE_PKI_ERROR. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LODGE_PKI_ERROR (lodge_pki_error_quark ())
GQuark lodge_pki_error_quark (void);

typedef enum {
  LODGE_PKI_ERROR_INVALID, /* not a certificate, key or request; bad signature */
  LODGE_PKI_ERROR_REFUSED, /* well formed, but not what the signer agreed to */
  LODGE_PKI_ERROR_FAILED,  /* GnuTLS could not do it */
} LodgePkiError;

/* A new CA: an ECDSA P-384 key and a self-signed certificate named @cn,
 * valid for @days. */
gboolean lodge_pki_make_ca (const char *cn, guint days, char **ret_cert_pem, char **ret_key_pem,
                            GError **error);

/* A host's new RSA key (libvirt's TLS wants key encipherment, which an
 * ECDSA key cannot do) and a request for a certificate named @cn, signed
 * with that key. */
gboolean lodge_pki_make_request (const char *cn, char **ret_key_pem, char **ret_request_pem,
                                 GError **error);

/* The CA's certificate for the key in @request_pem: the request's
 * signature is checked and its common name must be @cn, or it is
 * refused; the certificate names @cn as a DNS name and @ip_address (if
 * not NULL) as an IP address, is valid for @days, for TLS servers and
 * clients. */
char *lodge_pki_sign_request (const char *ca_cert_pem, const char *ca_key_pem,
                              const char *request_pem, const char *cn, const char *ip_address,
                              guint days, GError **error);

/* A new key and certificate for @cn in one step (a host whose key is made
 * where the CA is: the first controller at cluster init). */
gboolean lodge_pki_issue (const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                          const char *ip_address, guint days, char **ret_cert_pem,
                          char **ret_key_pem, GError **error);

/* The SHA-256 of the certificate's DER form, 64 lower-case hex digits
 * (what a join token pins). */
char *lodge_pki_fingerprint (const char *cert_pem, GError **error);

/* The certificate's common name. */
char *lodge_pki_common_name (const char *cert_pem, GError **error);

/* Whether @cert_pem is signed by @ca_cert_pem and valid now. */
gboolean lodge_pki_verify (const char *ca_cert_pem, const char *cert_pem, GError **error);

G_END_DECLS
