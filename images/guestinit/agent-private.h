/* The guest agent's state, shared by agent.c (channel, dispatch, users,
 * system), agent-file.c (guest-file-*) and agent-exec.c (guest-exec). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "json.h"

#define AGENT_MAX_EXECS 64
#define AGENT_MAX_FILES 64
#define AGENT_MAX_REQUEST LODGE_JSON_MAX_BYTES
#define AGENT_MAX_OUTPUT (16 * 1024 * 1024)

typedef struct {
  pid_t pid; /* 0: free slot */
  int capture;
  int out_fd, err_fd; /* -1 once at EOF */
  struct lodge_buf out, err;
  int out_truncated, err_truncated;
  int reaped, status;
  long reaped_ms;
} AgentExec;

typedef struct {
  int64_t handle; /* 0: free slot */
  int fd;
} AgentFile;

typedef struct {
  int in_fd, out_fd;
  int stdio;        /* --stdio: EOF ends the agent */
  const char *root; /* prefix of the files edited; "" in the guest */
  int test_mode;    /* --stdio or --root: no shutdown, no freeze */
  struct lodge_buf in, out;
  int in_depth, in_string, in_escape, in_discarding;
  AgentExec execs[AGENT_MAX_EXECS];
  AgentFile files[AGENT_MAX_FILES];
  int64_t next_handle;
  int frozen;
} Agent;

/* A command, with its arguments (NULL when none were given): 0 with the
 * return value in *@ret (a new reference; NULL when memory was short), 1
 * for no reply (guest-shutdown), or -1 with the reason in @err. */
typedef int (*AgentCommand) (Agent *a, const json_t *args, json_t **ret, char *err,
                             size_t err_len);

int lodge_agent_exec (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len);
int lodge_agent_exec_status (Agent *a, const json_t *args, json_t **ret, char *err,
                             size_t err_len);
/* Reads what the children wrote (after poll said so). */
void lodge_agent_exec_drain (AgentExec *e, int fd);
/* Reaps exited children (SIGCHLD came). */
void lodge_agent_exec_reap (Agent *a);

/* guest-file-* (agent-file.c). */
int lodge_agent_file_open (Agent *a, const json_t *args, json_t **ret, char *err,
                           size_t err_len);
int lodge_agent_file_close (Agent *a, const json_t *args, json_t **ret, char *err,
                            size_t err_len);
int lodge_agent_file_flush (Agent *a, const json_t *args, json_t **ret, char *err,
                            size_t err_len);
int lodge_agent_file_read (Agent *a, const json_t *args, json_t **ret, char *err,
                           size_t err_len);
int lodge_agent_file_write (Agent *a, const json_t *args, json_t **ret, char *err,
                            size_t err_len);
int lodge_agent_file_seek (Agent *a, const json_t *args, json_t **ret, char *err,
                           size_t err_len);

/* Argument helpers: 0, 1 when absent and optional (the default is set), or
 * -1 with a qemu-ga style reason ("Parameter 'pid' is missing"). */
int lodge_agent_arg_int (const json_t *args, const char *name, int required, int64_t def,
                         int64_t *ret, char *err, size_t err_len);
int lodge_agent_arg_str (const json_t *args, const char *name, int required,
                         const char *def, const char **ret, char *err, size_t err_len);
int lodge_agent_arg_bool (const json_t *args, const char *name, int required, int def,
                          int *ret, char *err, size_t err_len);
long lodge_agent_now_ms (void);
