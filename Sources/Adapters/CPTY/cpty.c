// What Swift's Glibc module does not expose: posix_openpt/ptsname_r, the GNU posix_spawn
// extensions POSIX_SPAWN_SETSID and addclosefrom_np, and mallopt. No fork: the child is made
// with posix_spawn, which is safe from a multi-threaded process.
//
// Controlling terminal: glibc runs setsid() (POSIX_SPAWN_SETSID) before the file actions,
// so the child is a session leader without a terminal when the first file action opens the
// slave without O_NOCTTY; Linux then makes that terminal the session's controlling terminal
// (the same effect as login_tty's TIOCSCTTY).
#define _GNU_SOURCE
#include "cpty.h"
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

int cpty_open_master(char *slave_path, size_t path_len) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, slave_path, path_len) != 0) {
        int e = errno;
        close(m);
        errno = e;
        return -1;
    }
    return m;
}

int cpty_spawn(pid_t *pid, const char *slave_path, char *const argv[], char *const envp[]) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    sigset_t empty, all;
    int rc;
    if ((rc = posix_spawnattr_init(&attr)) != 0) return rc;
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) { posix_spawnattr_destroy(&attr); return rc; }
    sigemptyset(&empty);
    sigfillset(&all);
    rc = posix_spawnattr_setsigmask(&attr, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 0, slave_path, O_RDWR, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, 0, 1);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, 0, 2);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (rc == 0) rc = posix_spawnp(pid, argv[0], &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int cpty_map_large_allocations(size_t threshold) {
    return mallopt(M_MMAP_THRESHOLD, (int)threshold);
}
