// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * static-use.c - a program linked with -static against libreadyq.a
 * (tests/static.sh)
 *
 * On each backend: create a queue, register three mailboxes (one twice),
 * drain them in order, complete them, check the statistics and destroy
 * the queue.  Exit status 0 when every answer is the expected one.
 */
#include <readyq/readyq.h>

#include <stdio.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("static-use: %s: %s failed\n",                 \
			       readyq_backend_name(b), #cond);                 \
			return 1;                                              \
		}                                                              \
	} while (0)

static int run(enum readyq_backend b)
{
	struct readyq_config cfg;
	struct readyq_index idx[3] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
	struct readyq_index out[8];
	struct readyq_result r = readyq_result_completed(false);
	struct readyq_stats st;
	struct readyq *q;
	int i;

	readyq_config_init(&cfg);
	cfg.backend = b;
	CHECK(readyq_create(&cfg, &q) == 0);
	for (i = 0; i < 3; i++)
		CHECK(readyq_register(q, idx[i]) == 1);
	CHECK(readyq_register(q, idx[1]) == 0);
	CHECK(readyq_drain(q, out, 8) == 3);
	for (i = 0; i < 3; i++) {
		CHECK(out[i].slot == idx[i].slot);
		CHECK(readyq_complete(q, out[i], &r) == 0);
	}
	CHECK(readyq_stats(q, &st) == 0);
	CHECK(st.registered == 3 && st.duplicates == 1 && st.completed == 3);
	readyq_destroy(q);
	printf("static-use: %s ok\n", readyq_backend_name(b));
	return 0;
}

int main(void)
{
	return run(READYQ_BACKEND_LOCKED) || run(READYQ_BACKEND_LOCKFREE) ||
	       run(READYQ_BACKEND_ADAPTIVE);
}
