/* lodge_tar_check() and lodge_tar_list(): streaming validation of archives
 * supplied by users, deciding names exactly as GNU tar does (list.c
 * read_header: pax path over GNU long name over prefix/name). */
#include "lodge-tar-private.h"

#include <string.h>

#include "lodge-error.h"

#define DATA_SIZE (64 * 1024)
#define SYMLINK_NAMES_MAX (64 * 1024 * 1024)
#define P61 ((G_GUINT64_CONSTANT (1) << 61) - 1)

/* A symlink name seen so far, keyed by a polynomial hash with a random
 * base (mod 2^61 - 1) that can be computed for every prefix of a name in
 * one pass: no quadratic work and no chosen collisions. */
typedef struct {
  guint64 hash;
  gsize len;
  char *str;
} PathKey;

/* Metadata headers ('x', 'L', 'K') waiting for their entry. */
typedef struct {
  guint64 offset;
  gboolean have_pax, have_size, have_uid, have_gid, have_mtime;
  char *path, *linkpath, *long_name, *long_link;
  gsize path_len, linkpath_len;
  guint64 size, uid, gid;
  gint64 mtime;
  guint32 mtime_nsec;
  GHashTable *xattrs;
} Pending;

typedef struct {
  const char *path;
  LodgeTarStream *stream;
  LodgeTarStats stats;
  Pending p;
  GHashTable *symlinks; /* PathKey set */
  gsize symlink_bytes;
  guint64 base;         /* of the path hash */
  GPtrArray *entries;   /* lodge_tar_list() only */
  guint8 *data;
} Reader;

G_GNUC_PRINTF (5, 6) static gboolean
refuse (Reader *r, GError **error, const char *entry, gssize entry_len, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  guint64 at = r->p.offset != G_MAXUINT64 ? r->p.offset : lodge_tar_stream_offset (r->stream);
  if (entry == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: offset %" G_GUINT64_FORMAT
                   ": %s", r->path, at, msg);
      return FALSE;
    }
  gsize len = entry_len < 0 ? strlen (entry) : (gsize) entry_len;
  g_autofree char *shown = lodge_tar_quote (entry, len);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
               "%s: entry '%s' (offset %" G_GUINT64_FORMAT "): %s", r->path, shown, at, msg);
  return FALSE;
}

/* Reads @len bytes of member data and the padding after it; @sum, when
 * not NULL, gets the data. */
static gboolean
consume (Reader *r, guint64 len, GChecksum *sum, const char *entry, GError **error)
{
  guint64 padded = len + (LODGE_TAR_BLOCK - len % LODGE_TAR_BLOCK) % LODGE_TAR_BLOCK;
  guint64 left = padded;
  while (left > 0)
    {
      gsize want = MIN (left, (guint64) DATA_SIZE), got = 0;
      if (!lodge_tar_stream_read (r->stream, r->data, want, &got, error))
        return FALSE;
      if (got < want)
        return refuse (r, error, entry, -1, "truncated: the archive ends inside this entry");
      guint64 done = padded - left;
      if (sum != NULL && done < len)
        g_checksum_update (sum, r->data, MIN ((guint64) got, len - done));
      left -= got;
    }
  return TRUE;
}

static gboolean
number_error (Reader *r, GError **error, const char *entry, LodgeTarNumber res, const char *what)
{
  if (res == LODGE_TAR_NUMBER_OVERFLOW)
    return refuse (r, error, entry, -1, "%s overflows", what);
  return refuse (r, error, entry, -1, "malformed %s field", what);
}

/* @len bytes, NULs included, and a NUL after them. */
static char *
dup_len (const char *s, gsize len)
{
  char *d = g_malloc (len + 1);
  memcpy (d, s, len);
  d[len] = '\0';
  return d;
}

/* One pax record. */
static gboolean
pax_record (Reader *r, const char *key, const char *value, gsize len, gboolean global,
            const char *hname, GError **error)
{
  Pending *p = &r->p;
  if (g_str_has_prefix (key, "GNU.sparse."))
    return refuse (r, error, hname, -1, "sparse files (pax %s) are not supported", key);
  gboolean is_path = strcmp (key, "path") == 0, is_link = strcmp (key, "linkpath") == 0;
  if (global && (is_path || is_link || strcmp (key, "size") == 0))
    return refuse (r, error, hname, -1, "a global pax header may not set %s", key);
  if (global)
    return TRUE;
  if (is_path || is_link)
    {
      char **dest = is_path ? &p->path : &p->linkpath;
      g_free (*dest);
      *dest = dup_len (value, len);
      *(is_path ? &p->path_len : &p->linkpath_len) = len;
      return TRUE;
    }
  LodgeTarNumber res = LODGE_TAR_NUMBER_OK;
  if (strcmp (key, "size") == 0)
    {
      res = lodge_tar_parse_decimal (value, len, &p->size);
      if (res == LODGE_TAR_NUMBER_OK && p->size > G_MAXINT64)
        res = LODGE_TAR_NUMBER_OVERFLOW;
      p->have_size = TRUE;
    }
  else if (strcmp (key, "uid") == 0)
    {
      res = lodge_tar_parse_decimal (value, len, &p->uid);
      p->have_uid = TRUE;
    }
  else if (strcmp (key, "gid") == 0)
    {
      res = lodge_tar_parse_decimal (value, len, &p->gid);
      p->have_gid = TRUE;
    }
  else if (strcmp (key, "mtime") == 0)
    {
      if (!lodge_tar_parse_mtime (value, len, &p->mtime, &p->mtime_nsec))
        res = LODGE_TAR_NUMBER_MALFORMED;
      p->have_mtime = TRUE;
    }
  else if (g_str_has_prefix (key, "SCHILY.xattr.") && r->entries != NULL)
    {
      if (p->xattrs == NULL)
        p->xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_bytes_unref);
      g_hash_table_insert (p->xattrs, lodge_tar_xattr_decode (key + strlen ("SCHILY.xattr.")),
                           g_bytes_new (value, len));
    }
  if (res != LODGE_TAR_NUMBER_OK)
    {
      g_autofree char *what = g_strdup_printf ("pax %s", key);
      return number_error (r, error, hname, res, what);
    }
  return TRUE;
}

/* "LEN key=value\n" records filling @len bytes exactly. */
static gboolean
parse_pax (Reader *r, const char *data, gsize len, gboolean global, const char *hname,
           GError **error)
{
  gsize pos = 0;
  while (pos < len)
    {
      gsize i = pos;
      guint64 rec = 0;
      while (i < len && g_ascii_isdigit (data[i]) && rec <= len)
        rec = rec * 10 + (data[i++] - '0');
      /* The shortest record is "LEN k=\n". */
      if (i == pos || i >= len || data[i] != ' ' || rec > len - pos || rec < i - pos + 4)
        return refuse (r, error, hname, -1, "malformed pax header record at byte %" G_GSIZE_FORMAT,
                       pos);
      const char *key = data + i + 1, *end = data + pos + rec - 1; /* end: the '\n' */
      const char *eq = memchr (key, '=', end - key);
      if (*end != '\n' || eq == NULL || eq == key || memchr (key, '\0', eq - key) != NULL)
        return refuse (r, error, hname, -1, "malformed pax header record at byte %" G_GSIZE_FORMAT,
                       pos);
      g_autofree char *k = g_strndup (key, eq - key);
      if (!pax_record (r, k, eq + 1, end - eq - 1, global, hname, error))
        return FALSE;
      pos += rec;
    }
  return TRUE;
}

/* The data of a metadata header, NUL-terminated, at most
 * LODGE_TAR_MAX_META bytes. */
static char *
read_meta (Reader *r, const LodgeTarHeader *h, const char *hname, gsize *ret_len, GError **error)
{
  gint64 size = 0;
  LodgeTarNumber res = lodge_tar_parse_field (h->size, sizeof h->size, &size);
  if (res == LODGE_TAR_NUMBER_OK && size < 0)
    res = LODGE_TAR_NUMBER_MALFORMED;
  if (res != LODGE_TAR_NUMBER_OK)
    {
      number_error (r, error, hname, res, "size");
      return NULL;
    }
  if (size > LODGE_TAR_MAX_META)
    {
      refuse (r, error, hname, -1, "metadata header of %" G_GINT64_FORMAT " bytes; the limit is %d",
              size, LODGE_TAR_MAX_META);
      return NULL;
    }
  gsize padded = size + (LODGE_TAR_BLOCK - size % LODGE_TAR_BLOCK) % LODGE_TAR_BLOCK, got = 0;
  g_autofree char *data = g_malloc (padded + 1);
  if (!lodge_tar_stream_read (r->stream, (guint8 *) data, padded, &got, error))
    return NULL;
  if (got < padded)
    {
      refuse (r, error, hname, -1, "truncated: the archive ends inside a metadata header");
      return NULL;
    }
  data[size] = '\0';
  *ret_len = size;
  return g_steal_pointer (&data);
}

/* (h * base + c + 1) mod 2^61 - 1, for h and base below 2^61 - 1. */
static guint64
hash_step (guint64 h, guint64 base, guint8 c)
{
  unsigned __int128 x = (unsigned __int128) h * base;
  guint64 v = (guint64) (x & P61) + (guint64) (x >> 61) + c + 1;
  while (v >= P61)
    v -= P61;
  return v;
}

static guint
path_key_hash (gconstpointer k)
{
  return (guint) ((const PathKey *) k)->hash;
}

static gboolean
path_key_equal (gconstpointer a, gconstpointer b)
{
  const PathKey *x = a, *y = b;
  return x->hash == y->hash && x->len == y->len && memcmp (x->str, y->str, x->len) == 0;
}

static void
path_key_clear (PathKey *k)
{
  g_clear_pointer (&k->str, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PathKey, path_key_clear)

static void
path_key_free (gpointer k)
{
  path_key_clear (k);
  g_free (k);
}

/* Refuses a name (or hard link target, @what) that is empty, absolute,
 * too long, has a NUL or a ".." component, or lies below a symlink seen
 * earlier. Sets *@ret_key to the name without "." and empty components. */
static gboolean
check_path (Reader *r, const char *entry, gsize entry_len, const char *path, gsize len,
            const char *what, PathKey *ret_key, GError **error)
{
  if (memchr (path, '\0', len) != NULL)
    return refuse (r, error, entry, entry_len, "%s has a NUL byte inside", what);
  if (len == 0)
    return refuse (r, error, entry, entry_len, "empty %s", what);
  if (path[0] == '/')
    return refuse (r, error, entry, entry_len, "%s is absolute", what);
  if (len > LODGE_TAR_MAX_NAME)
    return refuse (r, error, entry, entry_len, "%s is %" G_GSIZE_FORMAT " bytes long; the "
                   "limit is %d", what, len, LODGE_TAR_MAX_NAME);

  g_autoptr (GString) norm = g_string_new (NULL);
  guint64 hash = 0;
  const char *p = path, *end = path + len;
  while (p < end)
    {
      const char *slash = memchr (p, '/', end - p);
      const char *next = slash != NULL ? slash : end;
      gsize n = next - p;
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return refuse (r, error, entry, entry_len, "%s has a '..' component", what);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (norm->len > 0)
            {
              PathKey prefix = { hash, norm->len, norm->str };
              PathKey *link = g_hash_table_lookup (r->symlinks, &prefix);
              if (link != NULL)
                return refuse (r, error, entry, entry_len, "%s lies below the symlink '%s'",
                               what, link->str);
              g_string_append_c (norm, '/');
              hash = hash_step (hash, r->base, '/');
            }
          for (gsize i = 0; i < n; i++)
            hash = hash_step (hash, r->base, p[i]);
          g_string_append_len (norm, p, n);
        }
      p = next + (slash != NULL);
    }
  ret_key->hash = hash;
  ret_key->len = norm->len;
  ret_key->str = g_string_free (g_steal_pointer (&norm), FALSE);
  return TRUE;
}

static void
pending_clear (Pending *p)
{
  g_free (p->path);
  g_free (p->linkpath);
  g_free (p->long_name);
  g_free (p->long_link);
  g_clear_pointer (&p->xattrs, g_hash_table_unref);
  memset (p, 0, sizeof *p);
  p->offset = G_MAXUINT64;
}

/* prefix/name of a ustar header (prefix only with the POSIX magic, as
 * GNU tar does: GNU headers use that space for other fields). */
static gboolean
ustar_name (Reader *r, const LodgeTarHeader *h, char **ret, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *prefix = NULL;
  gsize shown = 0;
  if (!lodge_tar_padded_string (h->name, sizeof h->name, &name, &shown))
    return refuse (r, error, h->name, shown, "name has a NUL byte inside");
  if (h->prefix[0] != '\0' && memcmp (h->magic, "ustar", 6) == 0)
    {
      if (!lodge_tar_padded_string (h->prefix, sizeof h->prefix, &prefix, &shown))
        return refuse (r, error, h->prefix, shown, "name prefix has a NUL byte inside");
      *ret = g_strconcat (prefix, "/", name, NULL);
    }
  else
    *ret = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
entry_link (Reader *r, const LodgeTarHeader *h, const char *entry, gsize entry_len,
            char **ret, gsize *ret_len, GError **error)
{
  Pending *p = &r->p;
  gsize shown = 0;
  if (p->linkpath != NULL)
    *ret = dup_len (p->linkpath, *ret_len = p->linkpath_len);
  else if (p->long_link != NULL)
    *ret_len = strlen (*ret = g_strdup (p->long_link));
  else if (lodge_tar_padded_string (h->linkname, sizeof h->linkname, ret, &shown))
    *ret_len = strlen (*ret);
  else
    {
      g_autofree char *quoted = lodge_tar_quote (h->linkname, shown);
      return refuse (r, error, entry, entry_len, "link target '%s' has a NUL byte inside", quoted);
    }
  return TRUE;
}

static gboolean
header_number (Reader *r, const char *field, gsize width, const char *entry, const char *what,
               gboolean may_be_negative, gint64 *ret, GError **error)
{
  LodgeTarNumber res = lodge_tar_parse_field (field, width, ret);
  if (res == LODGE_TAR_NUMBER_OK && *ret < 0 && !may_be_negative)
    res = LODGE_TAR_NUMBER_MALFORMED;
  return res == LODGE_TAR_NUMBER_OK || number_error (r, error, entry, res, what);
}

static gboolean
remember_symlink (Reader *r, PathKey *key, const char *entry, GError **error)
{
  if (g_hash_table_contains (r->symlinks, key))
    return TRUE;
  r->symlink_bytes += key->len + sizeof *key;
  if (r->symlink_bytes > SYMLINK_NAMES_MAX)
    return refuse (r, error, entry, -1, "more than %d MiB of symlink names",
                   SYMLINK_NAMES_MAX >> 20);
  PathKey *copy = g_memdup2 (key, sizeof *key);
  copy->str = dup_len (key->str, key->len);
  g_hash_table_add (r->symlinks, copy);
  return TRUE;
}

/* One file, directory, link or FIFO entry, with its pending metadata. */
static gboolean
read_entry (Reader *r, const LodgeTarHeader *h, GError **error)
{
  Pending *p = &r->p;
  g_autofree char *name = NULL;
  gsize name_len = 0;
  if (p->path != NULL)
    name = dup_len (p->path, name_len = p->path_len);
  else if (p->long_name != NULL)
    name_len = strlen (name = g_strdup (p->long_name));
  else if (ustar_name (r, h, &name, error))
    name_len = strlen (name);
  else
    return FALSE;

  if (p->path != NULL && p->long_name != NULL) /* GNU tar uses path; check both */
    {
      g_auto (PathKey) other = { 0 };
      gsize n = strlen (p->long_name);
      if (!check_path (r, p->long_name, n, p->long_name, n, "name", &other, error))
        return FALSE;
    }
  g_auto (PathKey) key = { 0 };
  if (!check_path (r, name, name_len, name, name_len, "name", &key, error))
    return FALSE;

  LodgeTarEntryType type;
  switch (h->typeflag)
    {
    case '0': case '\0': case '7': type = LODGE_TAR_ENTRY_FILE; break;
    case '1': type = LODGE_TAR_ENTRY_HARDLINK; break;
    case '2': type = LODGE_TAR_ENTRY_SYMLINK; break;
    case '5': type = LODGE_TAR_ENTRY_DIRECTORY; break;
    case '6': type = LODGE_TAR_ENTRY_FIFO; break;
    case '3':
      return refuse (r, error, name, name_len,
                     "character device (type '3'); device nodes are not allowed");
    case '4':
      return refuse (r, error, name, name_len,
                     "block device (type '4'); device nodes are not allowed");
    default:
      if (g_ascii_isgraph (h->typeflag))
        return refuse (r, error, name, name_len, "unsupported entry type '%c'", h->typeflag);
      return refuse (r, error, name, name_len, "unsupported entry type 0x%02x",
                     (guint8) h->typeflag);
    }
  /* GNU tar extracts a "file" whose name ends in '/' as a directory. */
  if (type == LODGE_TAR_ENTRY_FILE && name[name_len - 1] == '/')
    type = LODGE_TAR_ENTRY_DIRECTORY;
  if (key.len == 0 && type != LODGE_TAR_ENTRY_DIRECTORY)
    return refuse (r, error, name, name_len, "the archive root must be a directory");

  /* GNU tar reads no data for a hard link unless pax gives a size; the
   * other types without data must say 0, where readers disagree. */
  gint64 size = 0, mode = 0, uid = p->uid, gid = p->gid, mtime = p->mtime;
  if (p->have_size)
    size = p->size;
  else if (type != LODGE_TAR_ENTRY_HARDLINK
           && !header_number (r, h->size, sizeof h->size, name, "size", FALSE, &size, error))
    return FALSE;
  if (size != 0 && type != LODGE_TAR_ENTRY_FILE)
    return refuse (r, error, name, name_len, "a %s with %" G_GINT64_FORMAT " bytes of data",
                   lodge_tar_entry_type_to_string (type), size);
  if (!header_number (r, h->mode, sizeof h->mode, name, "mode", FALSE, &mode, error)
      || (!p->have_uid
          && !header_number (r, h->uid, sizeof h->uid, name, "uid", FALSE, &uid, error))
      || (!p->have_gid
          && !header_number (r, h->gid, sizeof h->gid, name, "gid", FALSE, &gid, error))
      || (!p->have_mtime
          && !header_number (r, h->mtime, sizeof h->mtime, name, "mtime", TRUE, &mtime, error)))
    return FALSE;

  g_autofree char *link = NULL;
  gsize link_len = 0;
  if (type == LODGE_TAR_ENTRY_HARDLINK || type == LODGE_TAR_ENTRY_SYMLINK)
    {
      if (!entry_link (r, h, name, name_len, &link, &link_len, error))
        return FALSE;
      g_autofree char *shown = lodge_tar_quote (link, link_len);
      if (type == LODGE_TAR_ENTRY_HARDLINK)
        {
          g_autofree char *what = g_strdup_printf ("hard link target '%s'", shown);
          g_auto (PathKey) target = { 0 };
          if (!check_path (r, name, name_len, link, link_len, what, &target, error))
            return FALSE;
        }
      else if (link_len == 0 || link_len > LODGE_TAR_MAX_NAME
               || memchr (link, '\0', link_len) != NULL)
        return refuse (r, error, name, name_len, "symlink target '%s' is empty, too long, or "
                       "has a NUL byte inside", shown);
      else if (!remember_symlink (r, &key, name, error))
        return FALSE;
    }

  guint64 *counter[] = {
    [LODGE_TAR_ENTRY_FILE] = &r->stats.files, [LODGE_TAR_ENTRY_HARDLINK] = &r->stats.hardlinks,
    [LODGE_TAR_ENTRY_SYMLINK] = &r->stats.symlinks,
    [LODGE_TAR_ENTRY_DIRECTORY] = &r->stats.directories, [LODGE_TAR_ENTRY_FIFO] = &r->stats.fifos,
  };
  (*counter[type])++;
  if (!g_uint64_checked_add (&r->stats.bytes, r->stats.bytes, size))
    return refuse (r, error, name, name_len, "total size overflows");

  g_autoptr (GChecksum) sum = NULL;
  if (r->entries != NULL)
    {
      LodgeTarEntry *e = g_new0 (LodgeTarEntry, 1);
      *e = (LodgeTarEntry) {
        .type = type, .name = g_strdup (name), .link = g_steal_pointer (&link),
        .mode = mode & 07777, .uid = uid, .gid = gid, .mtime = mtime,
        .mtime_nsec = p->have_mtime ? p->mtime_nsec : 0, .size = size,
        .xattrs = p->xattrs != NULL ? g_hash_table_ref (p->xattrs) : NULL,
      };
      g_ptr_array_add (r->entries, e);
      if (type == LODGE_TAR_ENTRY_FILE)
        sum = g_checksum_new (G_CHECKSUM_SHA256);
    }
  if (!consume (r, size, sum, name, error))
    return FALSE;
  if (sum != NULL)
    {
      LodgeTarEntry *e = r->entries->pdata[r->entries->len - 1];
      e->sha256 = g_strdup (g_checksum_get_string (sum));
    }
  return TRUE;
}

static gboolean
is_zero_block (const LodgeTarHeader *h)
{
  const guint8 *b = (const guint8 *) h;
  for (gsize i = 0; i < LODGE_TAR_BLOCK; i++)
    if (b[i] != 0)
      return FALSE;
  return TRUE;
}

/* Headers up to the end-of-archive marker (GNU tar stops at the first
 * zero block). */
static gboolean
read_archive (Reader *r, GError **error)
{
  Pending *p = &r->p;
  for (;;)
    {
      LodgeTarHeader h;
      gsize got = 0;
      guint64 offset = lodge_tar_stream_offset (r->stream);
      if (!lodge_tar_stream_read (r->stream, (guint8 *) &h, sizeof h, &got, error))
        return FALSE;
      if (got == 0 && offset == 0)
        return refuse (r, error, NULL, 0, "empty file, not a tar archive");
      if (got < sizeof h)
        return refuse (r, error, NULL, 0, "truncated: the archive ends %s",
                       got == 0 ? "without an end-of-archive marker" : "inside a header");
      if (is_zero_block (&h))
        {
          if (p->offset != G_MAXUINT64)
            return refuse (r, error, NULL, 0, "metadata headers without an entry after them");
          return TRUE;
        }
      g_autofree char *raw_name = NULL;
      gsize shown = 0;
      lodge_tar_padded_string (h.name, sizeof h.name, &raw_name, &shown);
      if (p->offset == G_MAXUINT64)
        p->offset = offset;
      if (!lodge_tar_header_checksum_ok (&h))
        return refuse (r, error, h.name, shown, "bad header checksum%s",
                       offset == 0 ? " (not a tar archive?)" : "");

      gsize len = 0;
      g_autofree char *data = NULL;
      switch (h.typeflag)
        {
        case 'x':
        case 'g':
          if (h.typeflag == 'x' && p->have_pax)
            return refuse (r, error, h.name, shown, "two pax headers for one entry");
          p->have_pax |= h.typeflag == 'x';
          data = read_meta (r, &h, raw_name, &len, error);
          if (data == NULL || !parse_pax (r, data, len, h.typeflag == 'g', raw_name, error))
            return FALSE;
          if (h.typeflag == 'g' && !p->have_pax && p->long_name == NULL && p->long_link == NULL)
            p->offset = G_MAXUINT64; /* a global header needs no entry after it */
          continue;
        case 'L':
        case 'K':
          {
            char **dest = h.typeflag == 'L' ? &p->long_name : &p->long_link;
            if (*dest != NULL)
              return refuse (r, error, h.name, shown, "two GNU long %s records for one entry",
                             h.typeflag == 'L' ? "name" : "link");
            data = read_meta (r, &h, raw_name, &len, error);
            if (data == NULL)
              return FALSE;
            g_autofree char *value = NULL;
            if (!lodge_tar_padded_string (data, len, &value, &shown))
              return refuse (r, error, data, shown, "GNU long %s has a NUL byte inside",
                             h.typeflag == 'L' ? "name" : "link");
            *dest = g_steal_pointer (&value);
            continue;
          }
        default:
          if (!read_entry (r, &h, error))
            return FALSE;
          pending_clear (p);
        }
    }
}

static gboolean
read_file (const char *path, GPtrArray *entries, LodgeTarCompression *ret_compression,
           LodgeTarStats *ret_stats, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);

  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_NONE;
  g_autoptr (LodgeTarStream) stream = lodge_tar_stream_open (path, &compression, error);
  if (stream == NULL)
    return FALSE;
  g_autofree guint8 *data = g_malloc (DATA_SIZE);
  g_autoptr (GHashTable) symlinks = g_hash_table_new_full (path_key_hash, path_key_equal,
                                                           path_key_free, NULL);
  Reader r = {
    .path = path,
    .stream = stream,
    .symlinks = symlinks,
    .base = ((guint64) g_random_int () << 32 | g_random_int ()) % (P61 - 256) + 256,
    .entries = entries,
    .data = data,
  };
  pending_clear (&r.p);
  gboolean ok = read_archive (&r, error);
  pending_clear (&r.p);
  if (!ok)
    return FALSE;
  if (ret_compression != NULL)
    *ret_compression = compression;
  if (ret_stats != NULL)
    *ret_stats = r.stats;
  return TRUE;
}

gboolean
lodge_tar_check (const char *path, LodgeTarCompression *ret_compression,
                 LodgeTarStats *ret_stats, GError **error)
{
  return read_file (path, NULL, ret_compression, ret_stats, error);
}

GPtrArray *
lodge_tar_list (const char *path, LodgeTarCompression *ret_compression,
                LodgeTarStats *ret_stats, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (
    (GDestroyNotify) lodge_tar_entry_free);
  if (!read_file (path, entries, ret_compression, ret_stats, error))
    return NULL;
  return g_steal_pointer (&entries);
}
