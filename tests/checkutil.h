/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * checkutil.h - what the Check validation programs share
 */
#ifndef READYQ_CHECKUTIL_H
#define READYQ_CHECKUTIL_H

#include <readyq/readyq.h>

#include <check.h>
#include <stdlib.h>

/* readyq_stats(), asserted to succeed. */
static inline struct readyq_stats rq_stats_of(const struct readyq *q)
{
	struct readyq_stats st;

	ck_assert_int_eq(readyq_stats(q, &st), 0);
	return st;
}

/* Run @s (forking per test, as Check does by default) and exit with it. */
static inline int rq_check_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
