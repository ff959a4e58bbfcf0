#ifndef COFFER_CFILESYSTEMINFO_SHIM_H
#define COFFER_CFILESYSTEMINFO_SHIM_H
/* fstatfs(2), which Glibc's Swift module does not export: which file system holds a vault. */
#include <sys/vfs.h>
#endif
