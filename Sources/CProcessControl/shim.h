#ifndef COFFER_CPROCESSCONTROL_SHIM_H
#define COFFER_CPROCESSCONTROL_SHIM_H
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call: this fixes its arguments for the one use coffer has.
   Not dumpable: no core dump, and /proc/PID/environ, mem and ptrace are closed to same-user
   processes. execve gives a program started afterwards the normal state back. */
static inline int coffer_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL);
}
#endif
