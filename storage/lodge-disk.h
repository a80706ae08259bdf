/* VE root disks: a copy-on-write clone of template@version in the VE's
 * tier, grown to the VE's disk size. Creating one is O(1) in the
 * template's size. */
#pragma once

#include <glib.h>

#include "lodge-rbd.h"

G_BEGIN_DECLS

/* Where a VE's disk lives: pool of its tier, image "ve-<name>". */
typedef struct {
  char *pool;
  char *image;
} LodgeDiskRef;

void lodge_disk_ref_clear (LodgeDiskRef *ref);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeDiskRef, lodge_disk_ref_clear)
void lodge_disk_ref_init (LodgeDiskRef *ref, const char *ve, guint replicas);

/* Clones @tmpl_pool/@tmpl_image@@tmpl_snap into the VE's tier and grows it
 * to @size, under a name of its own ("ve-NAME.new-RANDOM"), then renames
 * it to the VE's: the VE's image is there only once it is whole (a
 * controller stopped in the middle of a clone leaves no image without
 * its parent under the VE's name, which another would start from). On
 * failure nothing is left behind. EXISTS if the VE has one. */
gboolean lodge_disk_create (LodgeRados *rados, const char *ve, guint replicas,
                            const char *tmpl_pool, const char *tmpl_image,
                            const char *tmpl_snap, guint64 size, GError **error);
/* Removes the disk with its snapshots, and what a creation cut short
 * left of one (ve-NAME.new-*). */
gboolean lodge_disk_delete (LodgeRados *rados, const char *ve, guint replicas, GError **error);

G_END_DECLS
