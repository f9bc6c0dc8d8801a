// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dlopen.c - the library loaded with dlopen(3), used and unloaded
 *
 * readyq(7) says the library may be dlopen()ed and dlclose()d at any
 * time.  Two things can break that: initial-exec TLS larger than glibc's
 * static TLS surplus (2 KiB of it made dlopen() fail with "cannot
 * allocate memory in static TLS block"), and code left to run after
 * dlclose(3): a thread that used a lock-free queue has liburcu-bp's
 * thread-exit handler (a pthread key destructor that liburcu-bp 0.13
 * does not delete when it is unloaded) and ours, so when it exits after
 * dlclose() they must still be mapped.  The library is linked with
 * -z nodelete for that: this test checks that it is still loaded after
 * dlclose() (RTLD_NOLOAD) and that the thread exits cleanly (without the
 * flag it died of SIGSEGV in liburcu-bp's handler).  This program does
 * not link the library; it loads the build's shared object (RQ_TEST_SO),
 * calls it through dlsym(3) and exits 77 (skipped) when the build has
 * none.
 */
#include <readyq/readyq.h>

#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DL_SLOTS 1000u

static struct {
	void (*config_init)(struct readyq_config *cfg);
	int (*create)(const struct readyq_config *cfg, struct readyq **qp);
	void (*destroy)(struct readyq *q);
	int (*reg)(struct readyq *q, struct readyq_index idx);
	ssize_t (*drain)(struct readyq *q, struct readyq_index *out,
			 size_t max);
} fn;

static struct readyq *q;
static sem_t registered, may_exit;
static int reg_errors;

#define DL_FAIL(...)                                                           \
	do {                                                                   \
		fprintf(stderr, "dlopen: " __VA_ARGS__);                       \
		exit(1);                                                       \
	} while (0)

static void *dl_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p)
		DL_FAIL("%s: %s\n", name, dlerror());
	return p;
}

/* Registers every slot (on sparse regions), then waits to be let go. */
static void *user(void *arg)
{
	struct readyq_index idx = { .generation = 0 };
	uint32_t s;

	(void)arg;
	for (s = 0; s < DL_SLOTS; s++) {
		idx.slot = s * 4096u;
		if (fn.reg(q, idx) != 1)
			reg_errors++;
	}
	sem_post(&registered);
	sem_wait(&may_exit); /* after dlclose(): destructors must be gone */
	return NULL;
}

int main(void)
{
	struct readyq_index out[64];
	struct readyq_config cfg;
	unsigned long got = 0;
	ssize_t n;
	pthread_t t;
	void *h;

	h = dlopen(RQ_TEST_SO, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		if (access(RQ_TEST_SO, F_OK)) {
			printf("dlopen: no shared library (%s): skipped\n",
			       RQ_TEST_SO);
			return 77;
		}
		DL_FAIL("%s\n", dlerror());
	}
	fn.config_init = dl_sym(h, "readyq_config_init");
	fn.create = dl_sym(h, "readyq_create");
	fn.destroy = dl_sym(h, "readyq_destroy");
	fn.reg = dl_sym(h, "readyq_register");
	fn.drain = dl_sym(h, "readyq_drain");

	fn.config_init(&cfg);
	cfg.backend = READYQ_BACKEND_LOCKFREE;
	if (fn.create(&cfg, &q))
		DL_FAIL("readyq_create failed\n");
	if (sem_init(&registered, 0, 0) || sem_init(&may_exit, 0, 0) ||
	    pthread_create(&t, NULL, user, NULL))
		DL_FAIL("setup failed\n");
	sem_wait(&registered);
	while ((n = fn.drain(q, out, 64)) > 0)
		got += (unsigned long)n;
	if (reg_errors || got != DL_SLOTS)
		DL_FAIL("%d registers failed, %lu of %u drained\n", reg_errors,
			got, DL_SLOTS);
	fn.destroy(q);
	if (dlclose(h))
		DL_FAIL("dlclose: %s\n", dlerror());
	h = dlopen(RQ_TEST_SO, RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		DL_FAIL("unloaded by dlclose(): not linked with -z nodelete\n");
	dlclose(h);
	sem_post(&may_exit);
	pthread_join(t, NULL); /* its exit runs no destructor of ours */
	printf("dlopen: loaded, %lu mailboxes queued and drained, closed\n",
	       got);
	return 0;
}
