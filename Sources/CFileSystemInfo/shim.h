#ifndef COFFER_CFILESYSTEMINFO_SHIM_H
#define COFFER_CFILESYSTEMINFO_SHIM_H
/* File system calls Glibc's Swift module does not export.
   fstatfs(2): which file system holds a vault. */
#include <sys/vfs.h>
#include <sys/types.h>

/* sync_file_range(2) (Linux, declared by <fcntl.h> only under _GNU_SOURCE): starts writing a file's
   dirty pages to the disk and returns without waiting for them (SYNC_FILE_RANGE_WRITE is 2). */
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);
static inline int coffer_start_writeback(int fd) { return sync_file_range(fd, 0, 0, 2); }
#endif
