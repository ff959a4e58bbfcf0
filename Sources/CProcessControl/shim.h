#ifndef COFFER_CPROCESSCONTROL_SHIM_H
#define COFFER_CPROCESSCONTROL_SHIM_H
#include <pty.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

/* prctl and ioctl are variadic, which Swift cannot call: these fix their arguments for the uses
   coffer has. */

/* Not dumpable: no core dump, and /proc/PID/environ, mem and ptrace are closed to same-user
   processes. execve gives a program started afterwards the normal state back. */
static inline int coffer_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL);
}

/* Copies the window size of terminal `from` to terminal `to` (which signals its foreground
   group with SIGWINCH when the size changes). */
static inline int coffer_copy_window_size(int from, int to) {
    struct winsize size;
    if (ioctl(from, TIOCGWINSZ, &size) != 0) return -1;
    return ioctl(to, TIOCSWINSZ, &size);
}

/* glibc's posix_spawn flag for setsid() in the child (since 2.26), which its header declares only
   under _GNU_SOURCE; the value is part of glibc's ABI. */
#ifndef POSIX_SPAWN_SETSID
#define POSIX_SPAWN_SETSID 0x80
#endif
static inline short coffer_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }
#endif
