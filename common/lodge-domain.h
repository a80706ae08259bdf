/* libvirt domain XML for a VE: a pure function of the environment
 * definition and the facts of its placement on a node. */
#pragma once

#include <glib.h>

#include "lodge-accelerator.h"
#include "lodge-env.h"

G_BEGIN_DECLS

/* Where, and with what, a VE runs. */
typedef struct {
  LodgeAccel accel;       /* what the node proved to work, not what it has */
  char *uuid;             /* the VE's domain UUID; NULL: libvirt makes one */
  char *kernel;           /* absolute path on the node */
  char *initrd;           /* NULL: none (the minimal kernel needs none) */
  char *firmware;         /* NULL: QEMU's default (SeaBIOS); else a ROM on the node */
  char *cmdline;
  char *rbd_pool;
  char *rbd_image;
  GStrv ceph_monitors;    /* "host:port" or "[v6addr]:port" */
  char *ceph_user;        /* cephx id, without "client." */
  char *ceph_secret_uuid; /* the libvirt secret holding that user's key */
  char *ceph_conf;        /* NULL, or a Ceph configuration file on the node for the disk */
  char *bridge;
  char *config_file;      /* the per-VE config blob on the node (mode 0600) */
  char *console_log;      /* NULL: the serial console is not logged */
  guint tb_cache_mib;     /* TCG translation cache; 0: QEMU's default */
  gboolean cpu_tuning;    /* the node's libvirt has a CPU cgroup: <cputune> */
  gboolean ksm;           /* the node merges VEs' pages (KSM); FALSE: <nosharepages/> */
} LodgePlacement;

/* The namespace of Lodge's <metadata> in a VE's domain: an element
 * <environment> with the VE's name, template and replicas, and floor-kib,
 * the memory it is promised. */
#define LODGE_METADATA_NS "urn:lodge:environment:1"

/* The fw_cfg name under which a guest finds its config blob. */
#define LODGE_FWCFG_CONFIG_NAME "opt/lodge/config"

/* The network filters (libvirt nwfilter) of a VE's interfaces, which each
 * node's agent defines (virt/lodge-nwfilter.h): IPv4 only, and IPv4 with
 * IPv6 for an interface with IPv6 addresses. */
#define LODGE_NWFILTER "lodge-ve"
#define LODGE_NWFILTER_DUAL "lodge-ve-dual"

/* The firmware a node boots VEs with where it has it (QEMU's qboot, in
 * Debian's qemu-system-data): <os><loader type='rom'>. */
#define LODGE_FIRMWARE_QBOOT "/usr/share/qemu/qboot.rom"

/* The kernel command line of every VE: root on the virtio disk, Lodge's
 * init shim as PID 1 (it execs the template's own init), the serial
 * console, and a reboot rather than a hang on panic. The same line works
 * for the minimal kernel and for the distro kernel + initrd fallback. */
#define LODGE_GUEST_CMDLINE \
  "console=ttyS0 root=/dev/vda rw init=/sbin/lodge-init panic=-1 quiet"

LodgePlacement *lodge_placement_new (void);
void lodge_placement_free (LodgePlacement *placement);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgePlacement, lodge_placement_free)

/* Sets the accelerator and what goes with it: under TCG a bounded
 * translation cache of 256 MiB, under KVM none. */
void lodge_placement_set_accel (LodgePlacement *placement, LodgeAccel accel);

/* Placeholder facts for `lodge domain-xml`: shows what a VE would get
 * without a cluster. */
LodgePlacement *lodge_placement_new_placeholder (const LodgeEnvDef *def, LodgeAccel accel);

/* The MAC address of @ifname: the one defined, else derived from the VE
 * name so it stays the same across restarts and migrations. */
char *lodge_domain_interface_mac (const LodgeEnvDef *def, const LodgeEnvInterface *iface);

/* Checks @placement, then generates the domain XML. */
char *lodge_domain_xml_generate (const LodgeEnvDef *def, const LodgePlacement *placement,
                                 GError **error);

/* A running domain's XML (libvirt's migratable form) with what is the
 * node's own replaced by @placement's: the guest kernel, the config blob,
 * the console log, the way to the disk (monitors, Ceph configuration,
 * cephx user and secret) and the bridge. Everything else, devices and
 * their addresses included, stays as the guest has it: this is the
 * destination XML of a live migration to the node @placement describes. */
char *lodge_domain_xml_retarget (const char *xml, gsize len, const LodgePlacement *placement,
                                 GError **error);

/* What a VE's guest has when it starts (its domain's <currentMemory>):
 * its floor (the memory it is promised), or more where the floor is too
 * little for its kernel to boot with all of <memory> (whose page tables
 * alone are 1/64 of it): an eighth of <memory> and 32 MiB. A 1 GiB guest
 * with a 64 MiB floor ran out of memory booting (the balloon took the
 * rest before lodge-init ran). The node's agent gives the surplus back
 * once the guest does not use it (virt/lodge-balloon.h); the floor the
 * agent keeps is the metadata's floor-kib. */
guint64 lodge_domain_boot_memory (const LodgeEnvDef *def);

G_END_DECLS
