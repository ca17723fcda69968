#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "process_limits.h"

static int lower_limit(int resource, unsigned long long bytes) {
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) return -1;
    rlim_t wanted = (rlim_t)bytes;
    if (current.rlim_max != RLIM_INFINITY && current.rlim_max < wanted) wanted = current.rlim_max;
    struct rlimit next = { wanted, current.rlim_max };
    return setrlimit(resource, &next);
}

int pl_limit_memory(unsigned long long data_bytes, unsigned long long address_space_bytes) {
    if (lower_limit(RLIMIT_DATA, data_bytes) != 0) return -1;
    return lower_limit(RLIMIT_AS, address_space_bytes);
}

int pl_set_parent_death_signal(int sig) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
#else
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}
