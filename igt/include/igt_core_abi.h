/* SPDX-License-Identifier: MIT */
/*
 * The part of libigt.so.0 (igt-gpu-tools 1.27.1, Debian's intel-gpu-tools)
 * that gpuvm's igt tests use. Debian ships the library without headers, so
 * this header declares the exported functions and variables we call, with the
 * prototypes of shared/reference/igt-abi.md section 2, and rebuilds the
 * control-flow and assertion macros from the behaviour described in section
 * 4. The macro names are igt's, so that the tests read like igt tests; the
 * code is ours.
 *
 * DOC: how a test runs
 *
 * igt_main defines main(): it parses igt's options (--list-subtests,
 * --run-subtest PATTERN, ...), runs the body and calls igt_exit(), which
 * exits 0 when a subtest passed and none failed, 77 when everything skipped,
 * 98 when something failed. Each igt_fixture and igt_subtest block is a
 * one-shot for loop whose condition asks libigt whether to run it and then
 * sets the jump buffer that libigt's igt_success(), igt_skip() and failed
 * assertions jump back to. Hence the rules (igt-abi.md section 5.6): locals set
 * in one block and read in another are static or volatile; no return, break or
 * goto out of a block; blocks do not nest (dynamic subtests excepted).
 */
#ifndef GPUVM_IGT_CORE_ABI_H
#define GPUVM_IGT_CORE_ABI_H

#include <getopt.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of an igt test (igt-abi.md section 3). */
#define IGT_EXIT_SUCCESS 0
#define IGT_EXIT_SKIP 77
#define IGT_EXIT_INVALID 79
#define IGT_EXIT_FAILURE 98
#define IGT_EXIT_ABORT 112

/* drm_open_driver() chipset masks; a device named "panthor" only opens with DRIVER_ANY. */
#define DRIVER_INTEL (1 << 0)
#define DRIVER_VGEM (1 << 2)
#define DRIVER_PANFROST (1 << 5)
#define DRIVER_ANY (~DRIVER_VGEM)

/* Return values of an igt_opt_handler_t. */
#define IGT_OPT_HANDLER_SUCCESS 0
#define IGT_OPT_HANDLER_ERROR -2

enum igt_log_level {
	IGT_LOG_DEBUG,
	IGT_LOG_INFO,
	IGT_LOG_WARN,
	IGT_LOG_CRITICAL,
	IGT_LOG_NONE,
};

typedef int (*igt_opt_handler_t)(int opt, int opt_index, void *data);

/* Set-up and control flow (libigt, igt_core.c). */
int igt_subtest_init_parse_opts(int *argc, char **argv, const char *extra_short_opts,
				const struct option *extra_long_opts, const char *help_str,
				igt_opt_handler_t extra_opt_handler, void *handler_data);
bool __igt_run_subtest(const char *subtest_name, const char *file, const int line);
bool __igt_fixture(void);
void __igt_fixture_complete(void);
bool __igt_enter_dynamic_container(void);
bool __igt_run_dynamic_subtest(const char *dynamic_subtest_name);
void igt_success(void);
__attribute__((noreturn)) void igt_fail(int exitcode);
__attribute__((noreturn, format(printf, 1, 2))) void igt_skip(const char *fmt, ...);
__attribute__((noreturn, format(printf, 5, 6))) void
__igt_skip_check(const char *file, const int line, const char *func, const char *check,
		 const char *fmt, ...);
__attribute__((noreturn, format(printf, 6, 7))) void
__igt_fail_assert(const char *domain, const char *file, const int line, const char *func,
		  const char *assertion, const char *fmt, ...);
__attribute__((noreturn)) void igt_exit(void);
__attribute__((format(printf, 3, 4))) void igt_log(const char *domain, enum igt_log_level level,
						   const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void igt_describe_f(const char *fmt, ...);
bool igt_only_list_subtests(void);
const char *igt_subtest_name(void);

/* glibc's jmp_buf is the same type as sigjmp_buf (igt-abi.md section 1). */
extern jmp_buf igt_subtest_jmpbuf;
extern jmp_buf igt_dynamic_jmpbuf;

/* A function pointer, drmIoctl by default: -1 and errno on failure. */
extern int (*igt_ioctl)(int fd, unsigned long request, void *arg);

/* Devices (igt_device.c, drmtest.c). */
int drm_open_driver(int chipset);
int __drm_open_driver(int chipset);
void __set_forced_driver(const char *name);

/* GEM, PRIME and syncobj helpers: they assert success themselves. */
void gem_close(int fd, uint32_t handle);
int prime_handle_to_fd(int fd, uint32_t handle);
int prime_handle_to_fd_for_mmap(int fd, uint32_t handle);
uint32_t prime_fd_to_handle(int fd, int dma_buf_fd);
uint32_t syncobj_create(int fd, uint32_t flags);
void syncobj_destroy(int fd, uint32_t handle);
bool syncobj_wait(int fd, uint32_t *handles, uint32_t count, uint64_t abs_timeout_nsec,
		  uint32_t flags, uint32_t *first_signaled);
bool syncobj_timeline_wait(int fd, uint32_t *handles, uint64_t *points, unsigned int num_handles,
			   int64_t timeout_nsec, unsigned int flags, uint32_t *first_signaled);
void syncobj_timeline_signal(int fd, uint32_t *handles, uint64_t *points, uint32_t count);
void syncobj_timeline_query(int fd, uint32_t *handles, uint64_t *points, uint32_t count);
int syncobj_handle_to_fd(int fd, uint32_t handle, uint32_t flags);
uint32_t syncobj_fd_to_handle(int fd, int syncobj_fd, uint32_t flags);
void syncobj_import_sync_file(int fd, uint32_t handle, int sync_file);

/*
 * igt_main: main() parses igt's options, runs the block that follows and
 * exits through igt_exit().
 */
#define igt_main                                                                        \
	static void igt_main_body(void);                                                \
	int main(int argc, char **argv)                                                 \
	{                                                                               \
		igt_subtest_init_parse_opts(&argc, argv, NULL, NULL, NULL, NULL, NULL); \
		igt_main_body();                                                        \
		igt_exit();                                                             \
	}                                                                               \
	static void igt_main_body(void)

/* Set-up shared by the subtests; not run when listing; a skip or failure here skips/fails all. */
#define igt_fixture                                                                            \
	for (volatile int igt_fixture_ran_ = 0;                                                \
	     igt_fixture_ran_ < 1 && __igt_fixture() && sigsetjmp(igt_subtest_jmpbuf, 1) == 0; \
	     igt_fixture_ran_++, __igt_fixture_complete())

/* A subtest; the end of its block is igt_success(), which leaves it. */
#define igt_subtest(name)                                       \
	for (; __igt_run_subtest((name), __FILE__, __LINE__) && \
	       sigsetjmp(igt_subtest_jmpbuf, 1) == 0;           \
	     igt_success())

/* A subtest whose name is printf-formatted (at most 255 characters). */
#define igt_subtest_f(...)                                                        \
	for (char igt_subtest_name_[256];                                         \
	     snprintf(igt_subtest_name_, sizeof(igt_subtest_name_), __VA_ARGS__), \
	     __igt_run_subtest(igt_subtest_name_, __FILE__, __LINE__) &&          \
		     sigsetjmp(igt_subtest_jmpbuf, 1) == 0;                       \
	     igt_success())

/* A subtest made of dynamic subtests (igt_dynamic blocks inside it). */
#define igt_subtest_with_dynamic(name)                                                             \
	for (; __igt_run_subtest((name), __FILE__, __LINE__) && __igt_enter_dynamic_container() && \
	       sigsetjmp(igt_subtest_jmpbuf, 1) == 0;                                              \
	     igt_success())

#define igt_dynamic(name)                                                                  \
	for (; __igt_run_dynamic_subtest((name)) && sigsetjmp(igt_dynamic_jmpbuf, 1) == 0; \
	     igt_success())

#define igt_describe(text) igt_describe_f("%s", (text))

#define igt_debug(...) igt_log(NULL, IGT_LOG_DEBUG, __VA_ARGS__)
#define igt_info(...) igt_log(NULL, IGT_LOG_INFO, __VA_ARGS__)
#define igt_warn(...) igt_log(NULL, IGT_LOG_WARN, __VA_ARGS__)

#define igt_assert(expr)                                                                    \
	do {                                                                                \
		if (!(expr))                                                                \
			__igt_fail_assert(NULL, __FILE__, __LINE__, __func__, #expr, NULL); \
	} while (0)

#define igt_assert_f(expr, ...)                                                                    \
	do {                                                                                       \
		if (!(expr))                                                                       \
			__igt_fail_assert(NULL, __FILE__, __LINE__, __func__, #expr, __VA_ARGS__); \
	} while (0)

#define igt_fail_on(expr) igt_assert(!(expr))

/*
 * Comparisons that print both sides. Each side is evaluated once, into the
 * type the suffix names; the plain forms compare as int (igt-abi.md 5.5: use
 * the _u64 forms for 64-bit values).
 */
#define igt_assert_cmp_typed_(type, fmt, a, op, nop, b)                                          \
	do {                                                                                     \
		type igt_lhs_ = (a);                                                             \
		type igt_rhs_ = (b);                                                             \
		if (!(igt_lhs_ op igt_rhs_))                                                     \
			__igt_fail_assert(NULL, __FILE__, __LINE__, __func__, #a " " #op " " #b, \
					  "error: " fmt " " #nop " " fmt "\n", igt_lhs_,         \
					  igt_rhs_);                                             \
	} while (0)

#define igt_assert_cmpint(a, op, nop, b) igt_assert_cmp_typed_(int, "%d", a, op, nop, b)
#define igt_assert_cmpuint(a, op, nop, b) igt_assert_cmp_typed_(uint32_t, "%#x", a, op, nop, b)
#define igt_assert_cmpu64(a, op, nop, b) \
	igt_assert_cmp_typed_(unsigned long long, "%#llx", a, op, nop, b)
#define igt_assert_cmps64(a, op, nop, b) igt_assert_cmp_typed_(long long, "%lld", a, op, nop, b)

#define igt_assert_eq(a, b) igt_assert_cmpint(a, ==, !=, b)
#define igt_assert_neq(a, b) igt_assert_cmpint(a, !=, ==, b)
#define igt_assert_lt(a, b) igt_assert_cmpint(a, <, >=, b)
#define igt_assert_lte(a, b) igt_assert_cmpint(a, <=, >, b)
#define igt_assert_eq_u32(a, b) igt_assert_cmpuint(a, ==, !=, b)
#define igt_assert_neq_u32(a, b) igt_assert_cmpuint(a, !=, ==, b)
#define igt_assert_eq_u64(a, b) igt_assert_cmpu64(a, ==, !=, b)
#define igt_assert_neq_u64(a, b) igt_assert_cmpu64(a, !=, ==, b)
#define igt_assert_lt_u64(a, b) igt_assert_cmpu64(a, <, >=, b)
#define igt_assert_lte_u64(a, b) igt_assert_cmpu64(a, <=, >, b)
#define igt_assert_eq_s64(a, b) igt_assert_cmps64(a, ==, !=, b)
#define igt_assert_fd(fd) igt_assert_f((fd) >= 0, "not a file descriptor: %d\n", (int)(fd))

#define igt_require(expr)                                                            \
	do {                                                                         \
		if (!(expr))                                                         \
			__igt_skip_check(__FILE__, __LINE__, __func__, #expr, NULL); \
		igt_debug("Test requirement passed: %s\n", #expr);                   \
	} while (0)

#define igt_require_f(expr, ...)                                                            \
	do {                                                                                \
		if (!(expr))                                                                \
			__igt_skip_check(__FILE__, __LINE__, __func__, #expr, __VA_ARGS__); \
		igt_debug("Test requirement passed: %s\n", #expr);                          \
	} while (0)

#define igt_skip_on(expr) igt_require(!(expr))

/* An ioctl that must succeed, and one that must fail with errno @err; errno is reset. */
#define do_ioctl(fd, request, arg)                                   \
	do {                                                         \
		igt_assert_eq(igt_ioctl((fd), (request), (arg)), 0); \
		errno = 0;                                           \
	} while (0)

#define do_ioctl_err(fd, request, arg, err)                           \
	do {                                                          \
		igt_assert_eq(igt_ioctl((fd), (request), (arg)), -1); \
		igt_assert_eq(errno, (err));                          \
		errno = 0;                                            \
	} while (0)

#endif /* GPUVM_IGT_CORE_ABI_H */
