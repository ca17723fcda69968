#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "csys.h"

int csys_rename_noreplace(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(from, to) != 0) return -1;
    return unlink(from);
}

int csys_mkostemp_cloexec(char *template_path) { return mkostemp(template_path, O_CLOEXEC); }

int csys_getrandom(void *buffer, size_t count) {
    size_t done = 0;
    while (done < count) {
        ssize_t n = getrandom((char *)buffer + done, count - done, 0);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        done += (size_t)n;
    }
    return 0;
}

long csys_fs_type(const char *path) {
    struct statfs s;
    if (statfs(path, &s) != 0) return 0;
    return (long)s.f_type;
}

int csys_touch_fd(int fd) { return futimens(fd, NULL); }

int csys_touch_path(const char *path) { return utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW); }

long long csys_mtime_ns(const char *path) {
    struct stat s;
    if (stat(path, &s) != 0) return -1;
    return (long long)s.st_mtim.tv_sec * 1000000000LL + s.st_mtim.tv_nsec;
}

long long csys_ctime_ns(const char *path) {
    struct stat s;
    if (stat(path, &s) != 0) return -1;
    return (long long)s.st_ctim.tv_sec * 1000000000LL + s.st_ctim.tv_nsec;
}

int csys_open_read_nofollow(const char *path) { return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); }

int csys_open_nofollow(const char *path, int flags, unsigned mode) {
    return open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, (mode_t)mode);
}

int csys_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csys_spawn_add_closefrom(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}
