#ifndef COFFER_CTHREADPLACEMENT_SHIM_H
#define COFFER_CTHREADPLACEMENT_SHIM_H
/* Where a helper thread runs. sched_getcpu(3), sched_getaffinity(2) and
   pthread_attr_setaffinity_np(3) are GNU extensions, declared by glibc only under _GNU_SOURCE,
   which Glibc's Swift module leaves out. Elsewhere a thread is started plainly. */
#include <pthread.h>
#ifdef __linux__
#include <sched.h>

extern int sched_getcpu(void);
extern int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set);
extern int pthread_attr_setaffinity_np(pthread_attr_t *attributes, size_t size, const cpu_set_t *set);

/* pthread_create(3) of start(context) on a thread that may run on any CPU this process may use
   but the caller's, when there is one. Linux often starts a thread on its creator's CPU and
   moves it only later. Measured on the 2-CPU machine this was written on, 8 runs each: two
   threads splitting 13 ms of sealing took 8.1-13.2 ms started plainly, 6.5-7.4 ms started so. */
static inline int coffer_thread_start_elsewhere(pthread_t *thread, void *(*start)(void *), void *context) {
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) return pthread_create(thread, NULL, start, context);
    cpu_set_t allowed;
    int here = sched_getcpu();
    if (here >= 0 && here < __CPU_SETSIZE && sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        const int bitsPerWord = 8 * (int)sizeof allowed.__bits[0];
        allowed.__bits[here / bitsPerWord] &= ~((__cpu_mask)1 << (here % bitsPerWord));
        int others = 0;
        for (unsigned long word = 0; word < sizeof allowed.__bits / sizeof allowed.__bits[0]; word++) {
            others |= allowed.__bits[word] != 0;
        }
        if (others) pthread_attr_setaffinity_np(&attributes, sizeof allowed, &allowed);
    }
    int result = pthread_create(thread, &attributes, start, context);
    pthread_attr_destroy(&attributes);
    return result;
}

/* The number of CPUs the calling thread may run on (taskset(1), a container's cpuset), which
   may be fewer than those online; 0 when unknown. */
static inline int coffer_usable_cpu_count(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    int count = 0;
    for (unsigned long word = 0; word < sizeof allowed.__bits / sizeof allowed.__bits[0]; word++) {
        count += __builtin_popcountl(allowed.__bits[word]);
    }
    return count;
}
#else
static inline int coffer_thread_start_elsewhere(pthread_t *thread, void *(*start)(void *), void *context) {
    return pthread_create(thread, NULL, start, context);
}

static inline int coffer_usable_cpu_count(void) { return 0; }
#endif
#endif
