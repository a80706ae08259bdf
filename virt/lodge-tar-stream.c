/* The bytes of a tar archive from a file, plain or gzip (decompressed with
 * GIO's GZlibDecompressor, streaming). */
#include "lodge-tar-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>

#include "lodge-error.h"

#define INPUT_SIZE (256 * 1024)

struct _LodgeTarStream {
  char *path;
  int fd;
  GConverter *gzip;    /* NULL for a plain archive */
  guint8 *in;          /* bytes read from the file */
  gsize in_pos, in_len;
  gboolean in_eof;
  gboolean gzip_done;  /* the last gzip member ended */
  guint64 offset;      /* tar bytes delivered so far */
};

void
lodge_tar_stream_free (LodgeTarStream *s)
{
  if (s == NULL)
    return;
  if (s->fd >= 0)
    close (s->fd);
  g_clear_object (&s->gzip);
  g_free (s->in);
  g_free (s->path);
  g_free (s);
}

guint64
lodge_tar_stream_offset (LodgeTarStream *s)
{
  return s->offset;
}

/* Keeps the unconsumed input and reads more after it. */
static gboolean
fill (LodgeTarStream *s, GError **error)
{
  memmove (s->in, s->in + s->in_pos, s->in_len - s->in_pos);
  s->in_len -= s->in_pos;
  s->in_pos = 0;
  for (;;)
    {
      ssize_t n = read (s->fd, s->in + s->in_len, INPUT_SIZE - s->in_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot read: %s", s->path,
                       g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        s->in_eof = TRUE;
      s->in_len += n;
      return TRUE;
    }
}

/* After a gzip member: another member (gzip -d reads them all, so GNU tar
 * --gzip does), zero padding, or the end of the file; anything else is
 * refused rather than guessed at. */
static gboolean
next_member (LodgeTarStream *s, GError **error)
{
  gboolean zeros = FALSE;
  for (;;)
    {
      if (s->in_pos == s->in_len)
        {
          if (s->in_eof)
            {
              s->gzip_done = TRUE;
              return TRUE;
            }
          if (!fill (s, error))
            return FALSE;
          continue;
        }
      if (s->in[s->in_pos] == 0)
        {
          s->in_pos++;
          zeros = TRUE;
          continue;
        }
      if (zeros || s->in[s->in_pos] != 0x1f)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: trailing bytes after the gzip data", s->path);
          return FALSE;
        }
      g_converter_reset (s->gzip);
      return TRUE;
    }
}

static gboolean
read_plain (LodgeTarStream *s, guint8 *buf, gsize len, gsize *got, GError **error)
{
  while (*got < len)
    {
      if (s->in_pos < s->in_len)
        {
          gsize n = MIN (len - *got, s->in_len - s->in_pos);
          memcpy (buf + *got, s->in + s->in_pos, n);
          s->in_pos += n;
          *got += n;
        }
      else if (s->in_eof)
        break;
      else if (!fill (s, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_gzip (LodgeTarStream *s, guint8 *buf, gsize len, gsize *got, GError **error)
{
  while (*got < len && !s->gzip_done)
    {
      gsize nread = 0, nwritten = 0;
      g_autoptr (GError) local = NULL;
      GConverterResult res = g_converter_convert (
        s->gzip, s->in + s->in_pos, s->in_len - s->in_pos, buf + *got, len - *got,
        s->in_eof ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS, &nread, &nwritten, &local);
      if (res == G_CONVERTER_ERROR)
        {
          gboolean partial = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
          if (partial && !s->in_eof && s->in_len - s->in_pos < INPUT_SIZE)
            {
              if (!fill (s, error))
                return FALSE;
              continue;
            }
          if (partial)
            g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                         "%s: truncated: the gzip data ends early", s->path);
          else
            g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: invalid gzip data: %s",
                         s->path, local->message);
          return FALSE;
        }
      s->in_pos += nread;
      *got += nwritten;
      if (res == G_CONVERTER_FINISHED && !next_member (s, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
lodge_tar_stream_read (LodgeTarStream *s, void *buf, gsize len, gsize *ret_got, GError **error)
{
  gsize got = 0;
  if (!(s->gzip != NULL ? read_gzip (s, buf, len, &got, error)
                        : read_plain (s, buf, len, &got, error)))
    return FALSE;
  s->offset += got;
  *ret_got = got;
  return TRUE;
}

/* Formats refused by their magic bytes. */
static const char *
compressed_format (const guint8 *b, gsize len)
{
  static const struct {
    const char *magic;
    gsize len;
    const char *name;
  } formats[] = {
    { "\x1f\x9d", 2, "compress (.Z)" }, { "BZh", 3, "bzip2" },
    { "\xfd" "7zXZ\0", 6, "xz" },        { "\x28\xb5\x2f\xfd", 4, "zstd" },
    { "LZIP", 4, "lzip" },               { "\x89LZO\0", 5, "lzop" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (len >= formats[i].len && memcmp (b, formats[i].magic, formats[i].len) == 0)
      return formats[i].name;
  return NULL;
}

LodgeTarStream *
lodge_tar_stream_open (const char *path, LodgeTarCompression *ret_compression, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr (LodgeTarStream) s = g_new0 (LodgeTarStream, 1);
  s->path = g_strdup (path);
  s->in = g_malloc (INPUT_SIZE);
  s->fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (s->fd < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  while (!s->in_eof && s->in_len < LODGE_TAR_BLOCK)
    if (!fill (s, error))
      return NULL;

  /* A valid first header wins over magic bytes (a name may start "BZh"). */
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_NONE;
  if (!(s->in_len >= LODGE_TAR_BLOCK && lodge_tar_header_checksum_ok ((LodgeTarHeader *) s->in)))
    {
      const char *format = compressed_format (s->in, s->in_len);
      if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b)
        compression = LODGE_TAR_COMPRESSION_GZIP;
      else if (format != NULL)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: %s-compressed archives are not supported; use an uncompressed or "
                       "gzip-compressed tar", path, format);
          return NULL;
        }
    }
  if (compression == LODGE_TAR_COMPRESSION_GZIP)
    s->gzip = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
  if (ret_compression != NULL)
    *ret_compression = compression;
  return g_steal_pointer (&s);
}
