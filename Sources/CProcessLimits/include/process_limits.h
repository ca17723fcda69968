#ifndef SESSION_BRIDGE_PROCESS_LIMITS_H
#define SESSION_BRIDGE_PROCESS_LIMITS_H

/// Caps this process's data segment and heap mappings (RLIMIT_DATA) and its address space (RLIMIT_AS) at the given
/// byte counts: allocations beyond them fail instead of growing until the machine swaps. 0 on success.
int pl_limit_memory(unsigned long long data_bytes, unsigned long long address_space_bytes);
/// Linux: asks the kernel to send `sig` to this process when the thread that created it exits
/// (prctl PR_SET_PDEATHSIG). Elsewhere: -1 with errno ENOSYS.
int pl_set_parent_death_signal(int sig);
#endif
