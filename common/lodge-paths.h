/* Paths every layer agrees on. */
#pragma once

/* The local cluster's directory (tools/lodge-cluster), unless
 * $LODGE_CLUSTER_DIR says otherwise. */
#define LODGE_CLUSTER_DEFAULT_DIR "/var/lib/lodge-cluster"
