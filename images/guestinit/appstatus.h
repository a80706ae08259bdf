/* The application status files lodge-init keeps for the host, one JSON
 * object per application in /run/lodge/apps/<name>.json (the format is
 * described at the top of main.c). */
#pragma once

enum lodge_app_state {
  LODGE_APP_RUNNING,
  LODGE_APP_RESTARTING,
  LODGE_APP_FAILED_TO_START,
  LODGE_APP_STATE_LAST,
};

struct lodge_app_status {
  const char *name;
  const char *command;
  enum lodge_app_state state;
  int pid;              /* 0: none (written as null) */
  int restarts;
  long started;         /* CLOCK_REALTIME seconds of the last start */
  const char *last_exit; /* NULL before the first exit */
};

#define LODGE_APP_STATUS_DIR "/run/lodge/apps"

/* Writes @dir/<name>.json atomically, making @dir and its parents first.
 * Returns 0, or -1 having said why on the console (a name that would not
 * make a plain file name is refused). */
int lodge_app_status_write (const char *dir, const struct lodge_app_status *st);
