/* lodge-init --agent: a QEMU guest agent (the QGA protocol of qemu-ga, as
 * libvirt speaks it) on the virtio-serial port org.qemu.guest_agent.0.
 * Single-threaded: one poll loop over the channel, the pipes of the
 * processes started with guest-exec and a signalfd for SIGCHLD.
 *
 *   lodge-init --agent [--device PATH | --stdio] [--root DIR]
 *
 * --stdio reads requests on stdin and replies on stdout (unit tests);
 * --root prefixes the files it edits or reads (/etc/shadow,
 * /etc/os-release). With either, guest-shutdown and guest-fsfreeze-* are
 * refused: a test must not power off or freeze the machine it runs on. */
#pragma once

#include <stddef.h>

#define LODGE_AGENT_PORT_NAME "org.qemu.guest_agent.0"

/* Finds the guest agent's port: the /dev/vportNpM whose
 * /sys/class/virtio-ports/vportNpM/name is LODGE_AGENT_PORT_NAME, else
 * /dev/virtio-ports/LODGE_AGENT_PORT_NAME. Returns 0 with the path in
 * @path, or -1 when there is none. */
int lodge_agent_find_port (char *path, size_t len);

/* The whole agent, from lodge-init's main(): @argv[1] is "--agent".
 * Returns the exit status. */
int lodge_agent_main (int argc, char **argv);
