// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * caf-bench.cpp - the workloads of "readyq-bench actors" on CAF 0.17
 *
 * Overview
 * --------
 * The C++ Actor Framework (libcaf-dev, work-stealing scheduler, default
 * settings but scheduler.max-threads = W) runs the same four workloads as
 * perf/actors.c, with the same sizes, checks and output format, so that
 * perf/bench.sh can interleave the two programs and put their lines in
 * one table:
 *
 *  - fanin-A: 2 sender threads (anon_send from outside the actor system)
 *    x N messages over A actors, sender s sends its i-th message to actor
 *    (i + s * A / 2) mod A;
 *  - pingpong-P: P pairs, R round trips each;
 *  - ring-T: 1,000 actors, T tokens, H hops in all;
 *  - forkjoin-N: a root actor and N leaves, 10 rounds.
 *
 * Messages are CAF's own (one allocation per send, as any CAF program
 * pays).  Checks: sequence numbers per sender / token / round, per-actor
 * delivery counts, deliveries == messages sent, 60 s timeout.  CAF
 * guarantees that an actor runs on one thread at a time; it is not
 * checked here (a per-message atomic would slow CAF down where ours checks
 * per turn).
 *
 * Usage: caf-bench [--workers 2,4] [--rounds 1] [--scale 1 | --quick]
 *                  [--bench LIST] [--raw]
 */
#include <caf/all.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace caf;

namespace {

using go_atom = atom_constant<atom("go")>;

enum kind { FANIN, PINGPONG, RING, FORKJOIN };

struct bench {
	const char *name;
	kind k;
	unsigned long param;
};

const bench benches[] = {
	{ "fanin-64", FANIN, 64 },	  { "fanin-1024", FANIN, 1024 },
	{ "fanin-65536", FANIN, 65536 },  { "pingpong-1", PINGPONG, 1 },
	{ "pingpong-16", PINGPONG, 16 },  { "ring-1", RING, 1 },
	{ "ring-64", RING, 64 },	  { "forkjoin-10k", FORKJOIN, 10000 },
	{ "forkjoin-100k", FORKJOIN, 100000 },
};
constexpr size_t ring_actors = 1000;

struct latch {
	std::atomic<long> left{ 0 };
	std::mutex mu;
	std::condition_variable cv;
	bool done = false;

	void down()
	{
		if (left.fetch_sub(1) != 1)
			return;
		std::lock_guard<std::mutex> g(mu);
		done = true;
		cv.notify_one();
	}
	bool wait(std::chrono::seconds s)
	{
		std::unique_lock<std::mutex> g(mu);
		return cv.wait_for(g, s, [this] { return done; });
	}
};

struct run;

struct astate {
	run *r = nullptr;
	uint64_t next[2] = { 0, 0 };
	uint64_t got = 0;
	uint64_t expect = 0;
	actor peer;
};

struct run {
	latch done;
	std::atomic<long> bad{ 0 };
	uint64_t n = 0, expect = 0;
	size_t nr = 0;
	std::vector<actor> actors;
	std::vector<astate> st;
};

void bad(run *r)
{
	r->bad.fetch_add(1, std::memory_order_relaxed);
}

behavior fanin_actor(event_based_actor *, astate *s)
{
	return { [=](uint32_t from, uint64_t seq) {
		if (seq != s->next[from])
			bad(s->r);
		s->next[from] = seq + 1;
		if (++s->got == s->expect)
			s->r->done.down();
		else if (s->got > s->expect)
			bad(s->r);
	} };
}

behavior ping_actor(event_based_actor *self, astate *s)
{
	return { [=](uint64_t seq) {
		s->got++;
		if (seq != s->next[0])
			bad(s->r);
		if (seq == s->r->n) {
			s->r->done.down();
			return;
		}
		s->next[0] = seq + 1;
		self->send(s->peer, seq);
	} };
}

behavior pong_actor(event_based_actor *self, astate *s)
{
	return { [=](uint64_t seq) {
		s->got++;
		if (seq != s->next[0])
			bad(s->r);
		s->next[0] = seq + 1;
		self->send(s->peer, seq + 1);
	} };
}

behavior ring_actor(event_based_actor *self, astate *s)
{
	return { [=](uint64_t left) {
		s->got++;
		if (!left) {
			s->r->done.down();
			return;
		}
		self->send(s->peer, left - 1);
	} };
}

void fj_fanout(event_based_actor *self, run *r, uint64_t round)
{
	for (size_t i = 1; i < r->nr; i++)
		self->send(r->actors[i], round);
}

behavior fj_root(event_based_actor *self, astate *s)
{
	return {
		[=](go_atom) {
			s->next[1]++; /* deliveries to the root */
			s->next[0] = 0;
			s->got = 0;
			fj_fanout(self, s->r, 0);
		},
		[=](uint64_t round) {
			run *r = s->r;

			s->next[1]++;
			if (round != s->next[0])
				bad(r);
			if (++s->got < r->nr - 1)
				return;
			s->got = 0;
			if (++s->next[0] == r->n) {
				r->done.down();
				return;
			}
			fj_fanout(self, r, s->next[0]);
		},
	};
}

behavior fj_leaf(event_based_actor *self, astate *s)
{
	return { [=](uint64_t round) {
		if (round != s->next[0])
			bad(s->r);
		s->next[0]++;
		s->got++;
		self->send(s->peer, round);
	} };
}

uint64_t cpu_ns_now()
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

uint64_t scaled(double scale, uint64_t full, uint64_t min)
{
	uint64_t v = (uint64_t)std::llround((double)full * scale);

	return v < min ? min : v;
}

struct run_result {
	double msgs_s = 0, cpu_ns = 0, wall_s = 0;
	long errors = 0;
};

run_result once(const bench &b, unsigned long workers, double scale)
{
	actor_system_config cfg;
	run_result res;

	cfg.set("scheduler.max-threads", (size_t)workers);
	cfg.set("logger.verbosity", atom("quiet"));
	actor_system sys{ cfg };
	run r;

	switch (b.k) {
	case FANIN:
		r.nr = b.param;
		r.n = scaled(scale, 1000000, 1);
		r.expect = 2 * r.n;
		break;
	case PINGPONG:
		r.nr = 2 * b.param;
		r.n = scaled(scale, 100000, 1);
		r.expect = b.param * (2 * r.n + 1);
		break;
	case RING:
		r.nr = ring_actors;
		r.n = scaled(scale, 1000000, b.param) / b.param;
		r.expect = b.param * (r.n + 1);
		break;
	case FORKJOIN:
		r.nr = b.param + 1;
		r.n = scaled(scale, 10, 1);
		r.expect = 1 + 2 * r.n * b.param;
		break;
	}
	r.st.resize(r.nr);
	r.actors.reserve(r.nr);
	for (size_t i = 0; i < r.nr; i++) {
		astate *s = &r.st[i];

		s->r = &r;
		switch (b.k) {
		case FANIN:
			r.actors.push_back(sys.spawn(fanin_actor, s));
			break;
		case PINGPONG:
			r.actors.push_back(sys.spawn(i % 2 ? pong_actor : ping_actor,
						     s));
			break;
		case RING:
			r.actors.push_back(sys.spawn(ring_actor, s));
			break;
		case FORKJOIN:
			r.actors.push_back(sys.spawn(i ? fj_leaf : fj_root, s));
			break;
		}
	}
	long busy = 0;
	for (size_t i = 0; i < r.nr; i++) {
		astate &s = r.st[i];

		switch (b.k) {
		case FANIN: {
			uint64_t q = r.n / r.nr, rem = r.n % r.nr;

			for (size_t k = 0; k < 2; k++) {
				size_t off = k * (r.nr / 2);
				size_t pos = (i + r.nr - off) % r.nr;

				s.expect += q + (pos < rem);
			}
			busy += s.expect > 0;
			break;
		}
		case PINGPONG:
			s.peer = r.actors[i ^ 1];
			break;
		case RING:
			s.peer = r.actors[(i + 1) % r.nr];
			break;
		case FORKJOIN:
			s.peer = r.actors[0];
			break;
		}
	}
	r.done.left = b.k == FANIN ? busy : b.k == FORKJOIN ? 1 : (long)b.param;

	std::atomic<int> go{ 0 };
	std::vector<std::thread> senders;
	if (b.k == FANIN) {
		for (uint32_t id = 0; id < 2; id++)
			senders.emplace_back([&, id] {
				std::vector<uint64_t> seq(r.nr, 0);

				while (!go.load())
					std::this_thread::yield();
				for (uint64_t i = 0; i < r.n; i++) {
					size_t d = (size_t)((i + id * (r.nr / 2)) %
							    r.nr);
					anon_send(r.actors[d], id, seq[d]++);
				}
			});
	}

	uint64_t c0 = cpu_ns_now();
	auto t0 = std::chrono::steady_clock::now();
	switch (b.k) {
	case FANIN:
		go.store(1);
		break;
	case PINGPONG:
		for (size_t i = 0; i < b.param; i++)
			anon_send(r.actors[2 * i], uint64_t{ 0 });
		break;
	case RING:
		for (size_t i = 0; i < b.param; i++)
			anon_send(r.actors[i * ring_actors / b.param], r.n);
		break;
	case FORKJOIN:
		anon_send(r.actors[0], go_atom::value);
		break;
	}
	bool ok = r.done.wait(std::chrono::seconds(60));
	auto t1 = std::chrono::steady_clock::now();
	uint64_t c1 = cpu_ns_now();
	for (auto &t : senders)
		t.join();

	for (auto &a : r.actors)
		anon_send_exit(a, exit_reason::user_shutdown);
	sys.await_all_actors_done();

	uint64_t delivered = 0;
	for (size_t i = 0; i < r.nr; i++) {
		const astate &s = r.st[i];

		delivered += b.k == FORKJOIN && !i ? s.next[1] : s.got;
		if (b.k == FANIN && s.got != s.expect)
			res.errors++;
		if (b.k == PINGPONG && s.got != r.n + !(i % 2))
			res.errors++;
		if (b.k == FORKJOIN && i && s.got != r.n)
			res.errors++;
	}
	res.errors += r.bad.load() + (delivered != r.expect) + !ok;
	res.wall_s = std::chrono::duration<double>(t1 - t0).count();
	res.msgs_s = (double)r.expect / res.wall_s;
	res.cpu_ns = (double)(c1 - c0) / (double)r.expect;
	if (res.errors)
		fprintf(stderr,
			"caf-bench: %s W=%lu: %ld errors (delivered %llu of %llu%s)\n",
			b.name, workers, res.errors,
			(unsigned long long)delivered,
			(unsigned long long)r.expect, ok ? "" : ", STUCK");
	return res;
}

bool selected(const char *list, const char *name)
{
	if (!list)
		return true;
	std::string l = std::string(",") + list + ",";
	return l.find(std::string(",") + name + ",") != std::string::npos;
}

int usage()
{
	fputs("usage: caf-bench [--workers 2,4] [--rounds N] [--scale F | --quick] [--bench LIST] [--raw]\n",
	      stderr);
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<unsigned long> ws{ 2, 4 };
	const char *wtext = "2,4", *only = nullptr;
	unsigned long rounds = 1;
	double scale = 1.0;
	bool raw = false;

	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		bool more = i + 1 < argc;

		if (a == "--workers" && more) {
			wtext = argv[++i];
			ws.clear();
			for (char *p = argv[i]; *p;) {
				char *end;
				unsigned long v = strtoul(p, &end, 10);

				if (end == p || !v || v > 256)
					return usage();
				ws.push_back(v);
				p = *end == ',' ? end + 1 : end;
				if (*end && *end != ',')
					return usage();
			}
		} else if (a == "--rounds" && more) {
			rounds = strtoul(argv[++i], nullptr, 10);
		} else if (a == "--scale" && more) {
			scale = strtod(argv[++i], nullptr);
		} else if (a == "--quick") {
			scale = 0.01;
		} else if (a == "--bench" && more) {
			only = argv[++i];
		} else if (a == "--raw") {
			raw = true;
		} else {
			return usage();
		}
	}
	if (!rounds || rounds > 32 || !(scale > 0 && scale <= 100))
		return usage();

	printf("# actors on CAF %d.%d: scale %g, %lu round(s), workers %s; %s\n",
	       CAF_MAJOR_VERSION, CAF_MINOR_VERSION, scale, rounds, wtext,
	       raw ? "bench W variant msgs_per_s cpu_ns_per_msg waits_per_msg wall_s check" :
		     "bench W variant median_msgs_per_s spread median_cpu_ns_per_msg check");
	bool any_bad = false;
	for (const bench &b : benches) {
		if (!selected(only, b.name))
			continue;
		for (unsigned long w : ws) {
			std::vector<double> rate, cpu;
			long errors = 0;

			for (unsigned long r = 0; r < rounds; r++) {
				run_result res = once(b, w, scale);

				rate.push_back(res.msgs_s);
				cpu.push_back(res.cpu_ns);
				errors += res.errors;
				if (raw)
					printf("%s %lu caf %.0f %.1f - %.4f %s\n",
					       b.name, w, res.msgs_s, res.cpu_ns,
					       res.wall_s,
					       res.errors ? "FAILED" : "ok");
				fflush(stdout);
			}
			any_bad |= errors != 0;
			if (raw)
				continue;
			auto med = [](std::vector<double> v) {
				std::sort(v.begin(), v.end());
				size_t n = v.size();
				return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
			};
			double lo = *std::min_element(rate.begin(), rate.end());
			double hi = *std::max_element(rate.begin(), rate.end());
			printf("%s %lu caf %.0f %.2f %.1f %s\n", b.name, w,
			       med(rate), hi / lo, med(cpu),
			       errors ? "FAILED" : "ok");
		}
	}
	return any_bad ? 1 : 0;
}
