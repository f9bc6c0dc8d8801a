/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probes.h - USDT (SystemTap/bpftrace) probes, when <sys/sdt.h> exists
 *
 * configure defines HAVE_SYS_SDT_H when systemtap-sdt-dev is installed
 * (--disable-usdt turns it off).  Each probe is then one nop in the code
 * plus an ELF note (readelf -n: "stapsdt"); without the header the macros
 * expand to nothing.  Provider "readyq":
 *
 *   register(q, slot, generation, rc)         readyq_register() returns
 *   drain(q, max, n)                          readyq_drain() returns
 *   complete(q, slot, generation, outcome, rc) readyq_complete() returns
 *   wait(q, timeout_ns, rc)                   readyq_wait() returns
 *   shutdown(q)                               readyq_shutdown()
 *   fd_notify(wq)                             readyq_fd()'s eventfd written
 *   delay(q, slot, generation, ns)            a drain took an index QUEUED
 *                                             for ns (READYQ_FLAG_HISTOGRAMS)
 *   turn(q, slot, generation, ns)             a complete ended a turn of ns
 *                                             (READYQ_FLAG_HISTOGRAMS)
 *
 * Example: bpftrace -e 'usdt:/usr/lib/x86_64-linux-gnu/libreadyq.so.0:readyq:drain { @[arg2] = count(); }'
 * Queue delay live: bpftrace -e 'usdt:...libreadyq.so.0:readyq:delay { @ns = hist(arg3); }'
 */
#ifndef READYQ_PROBES_H
#define READYQ_PROBES_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef HAVE_SYS_SDT_H
#define SDT_USE_VARIADIC 1
#include <sys/sdt.h>
#define rq_probe(name, ...) STAP_PROBEV(readyq, name, ##__VA_ARGS__)
#else
#define rq_probe(name, ...) do { } while (0)
#endif

#endif /* READYQ_PROBES_H */
