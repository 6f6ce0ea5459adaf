#pragma once

// Clang thread-safety analysis attributes (-Wthread-safety). They document which mutex guards which data and which
// functions need it held; clang checks them, other compilers ignore them. scripts/thread_safety_check.sh runs the
// analysis over the tree.
#if defined(__clang__)
#define KASTEN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KASTEN_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) KASTEN_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY KASTEN_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) KASTEN_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) KASTEN_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) KASTEN_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) KASTEN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) KASTEN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KASTEN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) KASTEN_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) KASTEN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) KASTEN_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS KASTEN_THREAD_ANNOTATION(no_thread_safety_analysis)
