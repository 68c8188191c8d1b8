// SPDX-License-Identifier: MIT
/*
 * BO labels and BO_QUERY_INFO through the device's C API, where the state
 * dump (mockdrm_dump()) shows what no ioctl reads back: a label set is in
 * the dump, a refused one leaves the dump as it was, and a BO imported from
 * another device's dma-buf says IS_IMPORTED while one of the device's own,
 * re-imported, does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <drm.h>

#include "mock-test.h"

/* The device's dump, as a string the caller frees. */
static char *dump(struct mt_dev *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	mockdrm_dump(d->dev, out);
	fclose(out);
	return buf;
}

static int set_label(struct mt_dev *d, uint32_t handle, const char *label, uint32_t pad)
{
	struct drm_panthor_bo_set_label a = { .handle = handle,
					      .pad = pad,
					      .label = (uintptr_t)label };

	return mockdrm_ioctl(d->file, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &a);
}

/* A refused label changes nothing the dump shows. */
static void check_refused(struct mt_dev *d, uint32_t handle, const char *label, uint32_t pad,
			  int want)
{
	char *before = dump(d), *after;

	assert_int_equal(set_label(d, handle, label, pad), want);
	after = dump(d);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_labels(void **state)
{
	struct mt_dev d;
	struct mt_bo bo;
	char *text, *long_label = malloc(4097);

	(void)state;
	mt_open(&d, NULL);
	mt_bo_create(&d, 2 * MT_PAGE, 1, &bo);
	assert_int_equal(set_label(&d, bo.handle, "vertex buffer", 0), 0);
	text = dump(&d);
	assert_non_null(strstr(text, "label \"vertex buffer\""));
	free(text);

	/* Refusals keep the old label. */
	memset(long_label, 'x', 4097);
	check_refused(&d, bo.handle, long_label, 0, -E2BIG);
	check_refused(&d, bo.handle, "other", 1, -EINVAL);
	check_refused(&d, 77, "other", 0, -ENOENT);
	check_refused(&d, bo.handle, (const char *)8, 0, -EFAULT);

	/* A new label replaces it; 0 clears it. */
	assert_int_equal(set_label(&d, bo.handle, "index buffer", 0), 0);
	text = dump(&d);
	assert_null(strstr(text, "vertex buffer"));
	assert_non_null(strstr(text, "label \"index buffer\""));
	free(text);
	assert_int_equal(set_label(&d, bo.handle, NULL, 0), 0);
	text = dump(&d);
	assert_null(strstr(text, "label"));
	free(text);
	free(long_label);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

static uint32_t extra_flags(struct mt_dev *d, uint32_t handle)
{
	struct drm_panthor_bo_query_info q = { .handle = handle };

	assert_int_equal(mockdrm_ioctl(d->file, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q), 0);
	return q.extra_flags;
}

/* IS_IMPORTED: a dma-buf another device exported; not one of our own coming back. */
static void test_imported(void **state)
{
	struct mt_dev a, b;
	struct mt_bo bo;
	struct drm_prime_handle exp = { .flags = DRM_CLOEXEC }, imp = { 0 }, self = { 0 };
	char *text;

	(void)state;
	mt_open(&a, NULL);
	mt_open(&b, NULL);
	mt_bo_create(&a, MT_PAGE, 2, &bo);
	exp.handle = bo.handle;
	assert_int_equal(mockdrm_ioctl(a.file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exp), 0);
	imp.fd = exp.fd;
	assert_int_equal(mockdrm_ioctl(b.file, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp), 0);
	assert_int_equal(extra_flags(&b, imp.handle), DRM_PANTHOR_BO_IS_IMPORTED);
	text = dump(&b);
	assert_non_null(strstr(text, " imported"));
	free(text);
	self.fd = exp.fd;
	assert_int_equal(mockdrm_ioctl(a.file, DRM_IOCTL_PRIME_FD_TO_HANDLE, &self), 0);
	assert_int_equal(self.handle, bo.handle);
	assert_int_equal(extra_flags(&a, bo.handle), 0);
	close(exp.fd);
	mt_bo_destroy(&a, &bo);
	mt_close(&b);
	mt_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_imported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
