/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEMPORARY umbrella while lib/adaptive.c moves to the split headers. */
#ifndef READYQ_INTERNAL_H
#define READYQ_INTERNAL_H
#include "alloc.h"
#include "backend.h"
#include "clock.h"
#include "futex.h"
#include "lock.h"
#define RQ_CACHELINE CAA_CACHE_LINE_SIZE
#define rq_cpu_relax caa_cpu_relax
#define rq_likely caa_likely
#define rq_unlikely caa_unlikely
#endif
