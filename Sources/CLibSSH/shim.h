#ifndef COFFER_CLIBSSH_SHIM_H
#define COFFER_CLIBSSH_SHIM_H
#include <libssh/libssh.h>
#endif
