// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * epoll.c - a single-threaded event loop that runs turns from readyq_fd()
 *
 * P producer threads send N messages each to M mailboxes.  The main
 * thread never calls readyq_wait(): it sleeps in epoll_wait() on the
 * queue's eventfd (readyq_fd()) and on a timerfd that it arms from
 * readyq_next_deadline(), as a daemon would beside its sockets.  The
 * loop follows readyq_fd(3):
 *
 *   1. wait until the eventfd or the timerfd is readable;
 *   2. read both to clear them;
 *   3. readyq_drain() until it returns 0, running and completing turns;
 *   4. arm the timerfd at readyq_next_deadline() (or disarm it).
 *
 * Every 8th turn of a mailbox fails with a retry delay of 2 ms, so that
 * DELAYED mailboxes come back only through the timer.  When the producers
 * are done and every message was taken, the loop calls readyq_shutdown(),
 * which makes the eventfd readable once more, and ends when
 * readyq_poll_signal() says -ESHUTDOWN.  Exit status 0 when every message
 * was taken exactly once and every turn completed.
 *
 * Usage: epoll [PRODUCERS [MAILBOXES [MESSAGES]]]
 */
/* POSIX.1-2008 interfaces (sigwait, nanosleep, CLOCK_MONOTONIC) */
#define _POSIX_C_SOURCE 200809L

#include <readyq/readyq.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define RETRY_NS 2000000ull

static struct readyq *q;
static _Atomic long *pending;
static unsigned long *turns;
static _Atomic long sent, producers_left;
static long taken, retries, loops, timer_fires;
static unsigned long nr_mailboxes, per_producer;

static void *producer(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg * 2654435761u + 1;
	struct readyq_index idx = { 0 };
	unsigned long i;

	for (i = 0; i < per_producer; i++) {
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		idx.slot = (uint32_t)((seed >> 33) % nr_mailboxes);
		atomic_fetch_add(&pending[idx.slot], 1);
		atomic_fetch_add(&sent, 1);
		if (readyq_register(q, idx) < 0)
			abort();
	}
	atomic_fetch_sub(&producers_left, 1);
	return NULL;
}

static void run_turn(struct readyq_index idx)
{
	long have = atomic_load(&pending[idx.slot]);
	long take = have < (long)readyq_throughput(q) ?
			    have :
			    (long)readyq_throughput(q);
	struct readyq_result res;

	if (++turns[idx.slot] % 8 == 0 && have) {
		/* A transient failure: try this mailbox again later. */
		res = readyq_result_failed(EAGAIN, RETRY_NS);
		retries++;
	} else {
		atomic_fetch_sub(&pending[idx.slot], take);
		taken += take;
		res = have > take ? readyq_result_yielded() :
				    readyq_result_completed(false);
	}
	if (readyq_complete(q, idx, &res) < 0)
		abort();
}

static void clear_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

static int arm_timer(int tfd)
{
	struct itimerspec its = { 0 };
	uint64_t at;

	if (readyq_next_deadline(q, &at) == 1) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ull);
		its.it_value.tv_nsec = (long)(at % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* 0 would disarm */
	}
	return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(int argc, char **argv)
{
	unsigned long np = argc > 1 ? strtoul(argv[1], NULL, 0) : 2;
	struct epoll_event ev[2], add = { .events = EPOLLIN };
	struct readyq_index batch[32];
	struct readyq_config cfg;
	struct readyq_stats st;
	pthread_t *threads;
	int ep, qfd, tfd, rc, i, n;
	unsigned long t;
	ssize_t got, k;

	nr_mailboxes = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
	per_producer = argc > 3 ? strtoul(argv[3], NULL, 0) : 20000;
	threads = calloc(np, sizeof(*threads));
	pending = calloc(nr_mailboxes, sizeof(*pending));
	turns = calloc(nr_mailboxes, sizeof(*turns));
	if (!threads || !pending || !turns || !nr_mailboxes)
		return 2;

	readyq_config_init(&cfg);
	cfg.backend = READYQ_BACKEND_LOCKED;
	cfg.capacity_hint = nr_mailboxes;
	rc = readyq_create(&cfg, &q);
	if (rc) {
		fprintf(stderr, "readyq_create: %s\n", strerror(-rc));
		return 1;
	}
	qfd = readyq_fd(q);
	if (qfd < 0) {
		fprintf(stderr, "readyq_fd: %s\n", strerror(-qfd));
		return 1;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (tfd < 0 || ep < 0) {
		perror("timerfd_create/epoll_create1");
		return 1;
	}
	add.data.fd = qfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, qfd, &add))
		return 1;
	add.data.fd = tfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &add))
		return 1;

	atomic_store(&producers_left, (long)np);
	for (t = 0; t < np; t++)
		if (pthread_create(&threads[t], NULL, producer,
				   (void *)(uintptr_t)(t + 1)))
			return 1;

	for (;;) {
		n = epoll_wait(ep, ev, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("epoll_wait");
			return 1;
		}
		loops++;
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == tfd)
				timer_fires++;
			clear_fd(ev[i].data.fd); /* before draining */
		}
		if (readyq_poll_signal(q) == -ESHUTDOWN)
			break;
		while ((got = readyq_drain(q, batch, 32)) > 0)
			for (k = 0; k < got; k++)
				run_turn(batch[k]);
		if (arm_timer(tfd)) {
			perror("timerfd_settime");
			return 1;
		}
		if (!atomic_load(&producers_left) &&
		    taken == atomic_load(&sent))
			readyq_shutdown(q);
	}
	for (t = 0; t < np; t++)
		pthread_join(threads[t], NULL);

	readyq_stats(q, &st);
	printf("epoll: sent %ld taken %ld; %ld retries, %ld loops, "
	       "%ld timer wakeups\n",
	       atomic_load(&sent), taken, retries, loops, timer_fires);
	printf("epoll: turns %llu drained, %llu completed; queued %zu, "
	       "running %zu, delayed %zu\n",
	       (unsigned long long)st.drained,
	       (unsigned long long)st.completed, st.queued, st.running,
	       st.delayed);
	rc = taken == atomic_load(&sent) && st.drained == st.completed &&
	     !st.queued && !st.running && !st.delayed;
	printf("epoll: accounting %s\n", rc ? "exact" : "FAILED");
	close(ep);
	close(tfd);
	readyq_destroy(q);
	free(turns);
	free(pending);
	free(threads);
	return rc ? 0 : 1;
}
