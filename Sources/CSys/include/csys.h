#ifndef SESSION_BRIDGE_CSYS_H
#define SESSION_BRIDGE_CSYS_H
#include <stddef.h>
#include <sys/types.h>

/// rename(2) that refuses to replace an existing target (renameat2 RENAME_NOREPLACE,
/// with a link+unlink fallback where the file system does not support it).
int csys_rename_noreplace(const char *from, const char *to);
/// mkostemp with O_CLOEXEC.
int csys_mkostemp_cloexec(char *template_path);
/// Fills the buffer from the kernel's random source. 0 on success.
int csys_getrandom(void *buffer, size_t count);
/// statfs f_type of a path, or 0 on error.
long csys_fs_type(const char *path);
/// Sets the mtime and atime of an open file to now.
int csys_touch_fd(int fd);
/// Sets the mtime and atime of a path to now (without following a final symlink).
int csys_touch_path(const char *path);
/// mtime of a path in nanoseconds since the epoch, or -1.
long long csys_mtime_ns(const char *path);
/// ctime of a path in nanoseconds since the epoch, or -1.
long long csys_ctime_ns(const char *path);
/// Opens a file for reading without following a final symlink and without blocking (a FIFO never waits for a
/// writer); -1 on error. Callers fstat the descriptor and accept regular files only.
int csys_open_read_nofollow(const char *path);
/// open(2) with O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK added to `flags`: for appends and lock files in folders other
/// people or agents can write (a planted symlink or FIFO is refused, never followed or waited on).
int csys_open_nofollow(const char *path, int flags, unsigned mode);
/// pipe2(2) with O_CLOEXEC.
int csys_pipe_cloexec(int fds[2]);
/// posix_spawn_file_actions_addclosefrom_np on a `posix_spawn_file_actions_t *`: the child closes every descriptor
/// from `from` up. 0 on success.
int csys_spawn_add_closefrom(void *actions, int from);
#endif
