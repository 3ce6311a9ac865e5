#ifndef CPTY_H
#define CPTY_H
#include <stddef.h>
#include <sys/types.h>

/// Opens a new pseudo-terminal master (close-on-exec, not our controlling terminal) and
/// writes the slave's path into `slave_path`. Returns the master fd, or -1 with errno set.
int cpty_open_master(char *slave_path, size_t path_len);

/// Starts `argv` (looked up in PATH) in a new session whose controlling terminal is the
/// slave at `slave_path`: stdin, stdout and stderr are the slave, every other descriptor is
/// closed, the signal mask is empty and every signal has its default action.
/// Returns 0 and the child's pid, or an errno value.
int cpty_spawn(pid_t *pid, const char *slave_path, char *const argv[], char *const envp[]);

/// mallopt(M_MMAP_THRESHOLD, threshold): blocks of at least `threshold` bytes are mapped on
/// their own and given back to the system when freed (and glibc stops raising the threshold
/// as large blocks are freed). Process-wide. Returns 1 on success, 0 otherwise.
int cpty_map_large_allocations(size_t threshold);

#endif
