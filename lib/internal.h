/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - what the core and the backends share
 *
 * Overview
 * --------
 * lib/core.c checks every argument and dispatches through one
 * struct readyq_ops; each backend lives in one file and implements the
 * whole state machine of SPEC §2 behind it.  Backends never check
 * arguments: by the time an op runs, handles and buffers are non-NULL,
 * max > 0 and every enum in a result is valid.
 *
 * Waking (lib/wait.c): a backend that turns an index QUEUED (or makes an
 * earlier deadline) calls rq_waitq_kick() *after* publishing that with a
 * sequentially consistent read-modify-write (or a seq_cst fence).  A
 * sleeper announces itself with a seq_cst increment of @sleepers before it
 * polls the backend.  One of the two therefore sees the other: no lost
 * wake-ups, and no futex call at all while nobody sleeps.
 *
 * Event fd (readyq_fd()): once a caller asked for one, the top bit of
 * @sleepers (RQ_SLEEPERS_FD) stays set, so every kick takes the slow path,
 * which writes the eventfd as well as waking a futex sleeper.  Without an
 * fd the fast path is unchanged: one load of the word it always read.
 *
 * Allocation (lib/alloc.c): backends allocate only through rq_malloc(),
 * rq_calloc() and rq_free(), so that tests can make the Nth allocation
 * fail.
 */
#ifndef READYQ_INTERNAL_H
#define READYQ_INTERNAL_H

#include <readyq/readyq.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RQ_CACHELINE 64
#define rq_aligned __attribute__((aligned(RQ_CACHELINE)))
#define rq_likely(x) __builtin_expect(!!(x), 1)
#define rq_unlikely(x) __builtin_expect(!!(x), 0)
#define RQ_NO_DEADLINE UINT64_MAX

/* ---- allocation (lib/alloc.c) ---- */
void *rq_malloc(size_t size);
void *rq_calloc(size_t nmemb, size_t size);
void *rq_zalloc_aligned(size_t size); /* zeroed, cache-line aligned */
void rq_free(void *p);

/*
 * Fault injection for tests: the @nth allocation from now on (1 = the
 * next) fails, 0 disables.  rq_alloc_count() is how many allocations were
 * attempted since the last rq_alloc_fail_nth() call.
 */
void rq_alloc_fail_nth(unsigned long nth);
unsigned long rq_alloc_count(void);

/* ---- time ---- */
static inline uint64_t rq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rq_deadline_after(uint64_t now, uint64_t delay_ns)
{
	uint64_t d = now + delay_ns;

	return (d < now || d == RQ_NO_DEADLINE) ? RQ_NO_DEADLINE - 1 : d;
}

/* ---- futex (lib/wait.c) ---- */
#define RQ_WAKE_WORK 1u /* futex bit: a new QUEUED index */
#define RQ_WAKE_TIMER 2u /* futex bit: the earliest deadline moved */
#define RQ_WAKE_ALL 0xffffffffu

long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits);
void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits);

/*
 * The futex-based three-state lock (Drepper, "Futexes are tricky"):
 * 0 free, 1 held, 2 held and contended.  Unlock wakes only from state 2.
 * Lock is an acquire barrier; unlock is a seq_cst exchange (see
 * rq_smp_mb__after_unlock()).  rq_lock() tells
 * whether it found the lock held (the adaptive backend's meter).
 */

static inline void rq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

struct rq_lock {
	_Atomic uint32_t word;
};

bool rq_lock_slow(struct rq_lock *l);

static inline bool rq_lock(struct rq_lock *l)
{
	uint32_t zero = 0;

	if (rq_likely(atomic_compare_exchange_strong_explicit(
		    &l->word, &zero, 1, memory_order_acquire,
		    memory_order_relaxed)))
		return false;
	return rq_lock_slow(l);
}

static inline void rq_unlock(struct rq_lock *l)
{
	if (rq_unlikely(atomic_exchange_explicit(&l->word, 0,
						 memory_order_seq_cst) == 2))
		rq_futex_wake(&l->word, 1, RQ_WAKE_ALL);
}

/*
 * rq_smp_mb__after_unlock() - order the critical section's stores before
 * the loads that follow rq_unlock() (kernel: smp_mb__after_spinlock)
 *
 * rq_unlock() is an atomic exchange.  On x86 that is a locked instruction,
 * which already drains the store buffer before any later load, so only the
 * compiler must be kept from reordering; elsewhere a seq_cst fence is
 * needed.  The locked backend relies on it to publish nr_queued before
 * rq_waitq_kick() reads the sleeper count (Dekker with the sleeper's
 * seq_cst increment), so that it needs no extra atomic per register.
 */
static inline void rq_smp_mb__after_unlock(void)
{
#if defined(__x86_64__) || defined(__i386__)
	atomic_signal_fence(memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* ---- waiting (lib/wait.c) ---- */
/* @sleepers flag: readyq_fd() was called, kicks write the eventfd. */
#define RQ_SLEEPERS_FD 0x80000000u

struct rq_waitq {
	_Atomic uint32_t seq; /* futex word: bumped by every kick */
	_Atomic uint32_t sleepers; /* threads between announce and leave,
				    * | RQ_SLEEPERS_FD */
	_Atomic uint32_t timer_owner; /* a sleeper watches the deadlines */
	_Atomic bool shutdown;
	_Atomic uint64_t waits, wakeups, timeouts;
	_Atomic int efd; /* readyq_fd()'s eventfd, -1 until asked for */
};

void rq_waitq_init(struct rq_waitq *wq);
void rq_waitq_fini(struct rq_waitq *wq);
void rq_waitq_notify_fd(struct rq_waitq *wq);

void rq_waitq_kick_slow(struct rq_waitq *wq);
void rq_waitq_kick_n(struct rq_waitq *wq, int n);
void rq_waitq_kick_timer(struct rq_waitq *wq);
void rq_waitq_wake_all(struct rq_waitq *wq);

/**
 * rq_waitq_kick() - wake one sleeper, if any, after new work was published
 * @wq: the wait queue
 *
 * Also signals readyq_fd()'s eventfd when one exists (RQ_SLEEPERS_FD).
 *
 * Context: any.  The caller must have published the new QUEUED index (or
 * the earlier deadline) with a seq_cst read-modify-write or fence.
 */
static inline void rq_waitq_kick(struct rq_waitq *wq)
{
	if (rq_unlikely(atomic_load_explicit(&wq->sleepers,
					     memory_order_seq_cst)))
		rq_waitq_kick_slow(wq);
}

/* ---- suspended and delayed indices (lib/susp.c) ---- */

#define RQ_SUSP_NIL UINT32_MAX

enum rq_susp_kind {
	RQ_SK_FREE,
	RQ_SK_SIGNAL, /* in a signal-key chain: a = next, b = prev */
	RQ_SK_TIMED, /* in the deadline heap: a = heap position */
	RQ_SK_CAPACITY, /* waits for readyq_resume() only */
};

struct rq_susp {
	uint64_t val; /* signal key or deadline */
	uintptr_t owner; /* the backend's name for the index */
	void *spare; /* the backend's */
	uint32_t a, b;
	uint32_t kind;
};

struct rq_susp_set {
	_Atomic uint64_t next_deadline; /* the heap's top, for lock-free reads */
	struct rq_susp *e;
	uint32_t *heap; /* entry indices, min-heap on val */
	uint32_t *bucket; /* signal-key chain heads */
	uint32_t cap, free, heap_len, max;
};

extern const uint8_t rq_sk_to_xw[]; /* enum rq_susp_kind -> rq_xwait */
extern const uint8_t rq_xw_to_sk[];

void rq_susp_init(struct rq_susp_set *ss, uint32_t max);
void rq_susp_fini(struct rq_susp_set *ss);
int rq_susp_reserve(struct rq_susp_set *ss);
uint32_t rq_susp_add(struct rq_susp_set *ss, enum rq_susp_kind kind,
		     uint64_t val, uintptr_t owner, void *spare, bool *earlier);
void rq_susp_del(struct rq_susp_set *ss, uint32_t s);

/* The index the next rq_susp_add() will return. */
static inline uint32_t rq_susp_next_free(const struct rq_susp_set *ss)
{
	return ss->free;
}

/* The earliest deadline, read without the owner's lock. */
static inline uint64_t rq_susp_next_deadline(struct rq_susp_set *ss)
{
	return atomic_load_explicit(&ss->next_deadline, memory_order_seq_cst);
}

/* Is a deadline due now?  Lock-free, for the backends' poll. */
static inline bool rq_susp_any_due(struct rq_susp_set *ss)
{
	uint64_t next = rq_susp_next_deadline(ss);

	return next != RQ_NO_DEADLINE && next <= rq_now_ns();
}

/* The entry with the earliest deadline if it is due at @now, else NIL. */
static inline uint32_t rq_susp_due(const struct rq_susp_set *ss, uint64_t now)
{
	return ss->heap_len && ss->e[ss->heap[0]].val <= now ? ss->heap[0] :
							       RQ_SUSP_NIL;
}

static inline uint32_t rq_susp_bucket(const struct rq_susp_set *ss,
				      uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) &
	       (ss->cap - 1);
}

/* The first entry of @key's chain (compare val: chains are shared). */
static inline uint32_t rq_susp_chain(const struct rq_susp_set *ss,
				     uint64_t key)
{
	return ss->cap ? ss->bucket[rq_susp_bucket(ss, key)] : RQ_SUSP_NIL;
}

/* ---- backends ---- */

/*
 * One slot's whole state, for moving a queue from one backend to another
 * (the adaptive backend's migration).  Deadlines are absolute
 * CLOCK_MONOTONIC nanoseconds.
 */
enum rq_xstate {
	RQ_X_IDLE,
	RQ_X_QUEUED,
	RQ_X_RUNNING,
	RQ_X_SUSPENDED,
	RQ_X_DELAYED,
	RQ_X_RETIRED,
};

enum rq_xwait {
	RQ_XW_NONE,
	RQ_XW_SIGNAL, /* @val is the signal key */
	RQ_XW_TIMED, /* @val is the deadline */
	RQ_XW_CAPACITY,
};

struct rq_export {
	uint64_t val;
	uint32_t slot;
	uint32_t gen;
	uint8_t state; /* enum rq_xstate */
	uint8_t wait; /* enum rq_xwait, SUSPENDED and DELAYED only */
	bool notified;
};

/**
 * struct readyq_ops - one backend
 *
 * Every op but @create and @destroy may run concurrently with every
 * other.  @poll answers 1 when an index is QUEUED or a deadline is due,
 * else 0, without blocking; it must read the queued count with a seq_cst
 * load (see rq_waitq_kick()).  @next_deadline is the earliest pending
 * deadline (CLOCK_MONOTONIC ns) or RQ_NO_DEADLINE.  @contention, when
 * set, returns and resets the contention meter: *ops gets operations since
 * the last call and the return value how many of them met contention.
 *
 * @export lists every known slot: the QUEUED ones first, in FIFO order,
 * then the others; it allocates *out (rq_malloc) and does not change the
 * backend.  @import loads one such entry into a backend that has just been
 * created, QUEUED ones at the tail, so importing a list in its order keeps
 * the FIFO; on failure the backend must still be destroyable.  The
 * adaptive backend sets neither (it is never migrated itself).  Both run with no other op in flight.
 */
struct readyq_ops {
	const char *name;
	int (*create)(const struct readyq_config *cfg, struct rq_waitq *wq,
		      void **bep);
	void (*destroy)(void *be);
	int (*reg)(void *be, struct readyq_index idx);
	int (*unreg)(void *be, struct readyq_index idx);
	ssize_t (*drain)(void *be, struct readyq_index *out, size_t max);
	int (*complete)(void *be, struct readyq_index idx,
			const struct readyq_result *res);
	int (*resume)(void *be, struct readyq_index idx);
	int (*resume_signal)(void *be, uint64_t key);
	int (*poll)(void *be);
	uint64_t (*next_deadline)(void *be);
	void (*stats)(void *be, struct readyq_stats *st);
	uint64_t (*contention)(void *be, uint64_t *ops);
	int (*export)(void *be, struct rq_export **out, size_t *n);
	int (*import)(void *be, const struct rq_export *x);
};

extern const struct readyq_ops rq_locked_ops;
extern const struct readyq_ops rq_lockfree_ops;
extern const struct readyq_ops rq_adaptive_ops;

/* the queue handle */
struct readyq {
	const struct readyq_ops *ops;
	void *be;
	uint32_t throughput;
	enum readyq_backend backend;
	struct rq_waitq wq rq_aligned;
};

int rq_wait(struct readyq *q, int64_t timeout_ns);
int rq_waitq_fd(struct readyq *q);

#endif /* READYQ_INTERNAL_H */
