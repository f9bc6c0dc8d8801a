// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pingpong.c - two actors pass a ball back and forth on actors.h
 *
 * Usage: pingpong [ROUND_TRIPS [WORKERS [BACKEND]]]
 *
 * The ping actor sends the ball to pong, pong sends it back, ROUND_TRIPS
 * times (default 10000); then ping stops the runtime.  One message is
 * recycled all along: the runtime allocates nothing per message.  Exit
 * status 0 when both actors saw every round trip in order and no worker
 * ever ran an actor another worker was running.
 */
#define _POSIX_C_SOURCE 200809L

#include "actors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message: the runtime's part first, then ours. */
struct ball {
	struct actor_msg msg;
	unsigned long hits;
};

/* An actor's state: no lock, one worker at a time runs the actor. */
struct player {
	struct actor *peer;
	unsigned long seen;
	unsigned long goal;
	int out_of_order;
};

static void play(struct actor *self, struct actor_msg *m)
{
	struct player *p = actors_state(self);
	struct ball *b = caa_container_of(m, struct ball, msg);

	if (b->hits / 2 != p->seen)
		p->out_of_order = 1;
	p->seen++;
	if (b->hits == 2 * p->goal) {
		/* ping's last receive: the game is over */
		actors_stop(self->sys);
		return;
	}
	b->hits++;
	actors_send(p->peer, &b->msg);
}

static enum readyq_backend backend_named(const char *s)
{
	int b;

	for (b = 0; readyq_backend_name((enum readyq_backend)b); b++)
		if (!strcmp(s, readyq_backend_name((enum readyq_backend)b)))
			return (enum readyq_backend)b;
	fprintf(stderr, "pingpong: unknown backend %s\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	struct player ping = { 0 }, pong = { 0 };
	struct ball ball = { .hits = 0 };
	struct actors_config cfg;
	struct actors_stats st;
	struct actors *sys;
	struct actor *a, *b;
	int rc, ok;

	actors_config_init(&cfg);
	ping.goal = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
	pong.goal = ping.goal;
	if (argc > 2)
		cfg.workers = (unsigned int)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		cfg.backend = backend_named(argv[3]);

	rc = actors_create(&cfg, &sys);
	if (rc < 0) {
		fprintf(stderr, "pingpong: actors_create: %s\n", strerror(-rc));
		return 1;
	}
	a = actors_spawn(sys, play, &ping);
	b = actors_spawn(sys, play, &pong);
	if (!a || !b)
		return 1;
	ping.peer = b;
	pong.peer = a;
	rc = actors_start(sys);
	if (!rc)
		rc = actors_send(a, &ball.msg); /* serve */
	if (rc < 0) {
		fprintf(stderr, "pingpong: %s\n", strerror(-rc));
		actors_destroy(sys);
		return 1;
	}
	actors_join(sys); /* returns once ping has called actors_stop() */
	actors_stats(sys, &st);
	printf("%lu round trips on %s, %u workers: %llu messages in %llu turns, overlaps %llu\n",
	       ping.goal, readyq_backend_name(cfg.backend), cfg.workers,
	       (unsigned long long)st.delivered,
	       (unsigned long long)st.turns,
	       (unsigned long long)st.overlaps);
	actors_destroy(sys);

	ok = ping.seen == ping.goal + 1 && pong.seen == pong.goal;
	ok = ok && !ping.out_of_order && !pong.out_of_order;
	ok = ok && !st.overlaps && !st.errors;
	return ok ? 0 : 1;
}
