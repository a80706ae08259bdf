/* Text files compared line by line, for people: the repair diff shows what a
 * customer changed in a guest's configuration against the template it came
 * from, as a unified diff byte-identical to GNU `diff -u`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Beyond this many lines on either side, or this many inserted plus deleted
 * lines, a diff is only summarised (memory and time stay bounded). */
#define LODGE_TEXTDIFF_MAX_LINES 100000
#define LODGE_TEXTDIFF_MAX_EDITS 20000

/* Is this content text a human can read in a diff: no NUL byte in it, valid
 * UTF-8. */
gboolean lodge_text_is_text (const char *data, gsize len);

/* A unified diff (like `diff -u`, with @context lines of context, hunks
 * "@@ -a,b +c,d @@") from @old to @new, headed "--- LABEL_OLD\n+++ LABEL_NEW\n".
 * NULL when the two are equal. Lines are split at '\n'; a last line without
 * '\n' is marked with "\\ No newline at end of file" as diff(1) does. Over
 * LODGE_TEXTDIFF_MAX_LINES lines on either side, or over
 * LODGE_TEXTDIFF_MAX_EDITS changed lines, the headers are followed by
 * "(files differ; too large to diff: N and M lines)\n" and no hunks. */
char *lodge_text_diff_unified (const char *old_data, gsize old_len, const char *new_data,
                               gsize new_len, const char *label_old, const char *label_new,
                               guint context);

G_END_DECLS
