// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cost: what the guest executes, per vCPU, for the MANA bench.
 *
 * A QEMU TCG plugin. It counts, per vCPU, the guest instructions executed
 * and the guest data accesses made and, on request, runs every data access
 * through a modeled cache (an L1D and an L2 per vCPU, physically tagged,
 * set-associative, LRU, write-allocate, no coherence between vCPUs) and
 * counts the misses of each level. scripts/bench.sh divides the counters'
 * growth over a window by the packets received in it.
 *
 * Modes:
 *   off    nothing instrumented: TCG translates as it does without plugins
 *   count  instructions (per executed translation block) and accesses
 *          (per access), both as inline additions: no helper calls
 *   cache  count, and a callback per access for the cache model: several
 *          times slower than count
 * A mode change drops every translation (qemu_plugin_reset()), which the
 * plugin API allows from a vCPU thread only: the change is made the next
 * time a vCPU goes idle, and "get" says which mode is in force.
 *
 * The counters are read while the guest runs, over a unix socket: one
 * request line, one answer, then the plugin closes the connection.
 *   get       "mode <in force> want <asked>", then per vCPU
 *             "vcpu <i> insn <n> mem <n> l1miss <n> l2miss <n>"
 *   mode <m>  "ok want <m>" (or "error ...")
 * scripts/hostagent.py relays them to the guest (tests/lib/hostctl.py).
 *
 * Arguments: sock=<path> (required), mode=off|count|cache (default off),
 * l1=<KiB>,l1ways=<n>,l2=<KiB>,l2ways=<n>,line=<bytes> (default 64, 4,
 * 1024, 8, 64: a Neoverse-N1-like core; sizes / (ways x line) must be a
 * power of two).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum mode { MODE_OFF, MODE_COUNT, MODE_CACHE };
static const char *const mode_names[] = { "off", "count", "cache" };

#define MAX_VCPUS 64

struct counters {
	uint64_t insn;
	uint64_t mem;
	uint64_t l1miss;
	uint64_t l2miss;
};

/* One cache level: sets x ways line tags, most recently used first */
struct cache {
	unsigned int sets;
	unsigned int ways;
	uint64_t *tags; /* line number + 1; 0 is an empty way */
};

struct geometry {
	unsigned int kib;
	unsigned int ways;
};

static struct qemu_plugin_scoreboard *board;
static qemu_plugin_u64 insn_count;
static qemu_plugin_u64 mem_count;
static int mode_now;  /* the mode the translations carry */
static int mode_want; /* the mode asked for */
static int resetting;
static struct geometry l1_geo = { 64, 4 }, l2_geo = { 1024, 8 };
static unsigned int line_shift = 6;
static struct cache caches[MAX_VCPUS][2];
static char *sock_path;
static int listen_fd = -1;

static int load(const int *v)
{
	return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

static void store(int *v, int x)
{
	__atomic_store_n(v, x, __ATOMIC_RELEASE);
}

/* The cache of @geo, or false if its set count is not a power of two */
static bool cache_init(struct cache *c, const struct geometry *geo)
{
	uint64_t lines = (uint64_t)geo->kib * 1024 >> line_shift;

	if (!geo->ways || lines % geo->ways)
		return false;
	c->ways = geo->ways;
	c->sets = lines / geo->ways;
	if (!c->sets || (c->sets & (c->sets - 1)))
		return false;
	c->tags = calloc((size_t)c->sets * c->ways, sizeof(*c->tags));
	return c->tags;
}

/* Look @line up in @c and make it the most recent of its set: hit or not */
static bool cache_touch(struct cache *c, uint64_t line)
{
	uint64_t *set = c->tags + (size_t)(line & (c->sets - 1)) * c->ways;
	uint64_t key = line + 1;
	unsigned int i;

	for (i = 0; i < c->ways; i++)
		if (set[i] == key)
			break;
	/* the ways before it (all but the last on a miss) move down one */
	memmove(set + 1, set, (i < c->ways ? i : c->ways - 1) * sizeof(*set));
	set[0] = key;
	return i < c->ways;
}

static void on_access(unsigned int vcpu, qemu_plugin_meminfo_t info,
		      uint64_t vaddr, void *udata)
{
	struct counters *n = qemu_plugin_scoreboard_find(board, vcpu);
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	struct cache *c;
	uint64_t line;

	n->mem++;
	/* device registers are not cached */
	if (!hw || qemu_plugin_hwaddr_is_io(hw) || vcpu >= MAX_VCPUS)
		return;
	c = caches[vcpu];
	/* (built on the vCPU's own thread: no other thread touches it) */
	if (!c[0].tags && (!cache_init(&c[0], &l1_geo) || !cache_init(&c[1], &l2_geo)))
		return;
	line = qemu_plugin_hwaddr_phys_addr(hw) >> line_shift;
	if (cache_touch(&c[0], line))
		return;
	n->l1miss++;
	if (!cache_touch(&c[1], line))
		n->l2miss++;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	bool cache = load(&mode_now) == MODE_CACHE;

	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							  insn_count, n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (cache)
			qemu_plugin_register_vcpu_mem_cb(insn, on_access, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, NULL);
		else
			qemu_plugin_register_vcpu_mem_inline_per_vcpu(insn, QEMU_PLUGIN_MEM_RW,
								      QEMU_PLUGIN_INLINE_ADD_U64,
								      mem_count, 1);
	}
}

static void on_idle(qemu_plugin_id_t id, unsigned int vcpu);
static void on_quit(qemu_plugin_id_t id, void *p);

/* Register the callbacks of the mode asked for (at install, after a reset) */
static void arm(qemu_plugin_id_t id)
{
	int m = load(&mode_want);

	store(&mode_now, m);
	qemu_plugin_register_vcpu_idle_cb(id, on_idle);
	qemu_plugin_register_atexit_cb(id, on_quit, NULL);
	if (m != MODE_OFF)
		qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	store(&resetting, 0);
}

static void on_idle(qemu_plugin_id_t id, unsigned int vcpu)
{
	if (load(&mode_want) != load(&mode_now) &&
	    !__atomic_exchange_n(&resetting, 1, __ATOMIC_ACQ_REL))
		qemu_plugin_reset(id, arm);
}

/* Answer one request line @req into @out (of @len bytes) */
static void answer(const char *req, char *out, size_t len)
{
	size_t used;
	int i, m;

	if (!strcmp(req, "get")) {
		used = snprintf(out, len, "mode %s want %s\n", mode_names[load(&mode_now)],
				mode_names[load(&mode_want)]);
		for (i = 0; i < qemu_plugin_num_vcpus() && used < len; i++)
			used += snprintf(out + used, len - used,
					 "vcpu %d insn %" PRIu64 " mem %" PRIu64
					 " l1miss %" PRIu64 " l2miss %" PRIu64 "\n", i,
					 qemu_plugin_u64_get(insn_count, i),
					 qemu_plugin_u64_get(mem_count, i),
					 ((struct counters *)qemu_plugin_scoreboard_find(board, i))->l1miss,
					 ((struct counters *)qemu_plugin_scoreboard_find(board, i))->l2miss);
		return;
	}
	if (!strncmp(req, "mode ", 5)) {
		for (m = MODE_OFF; m <= MODE_CACHE; m++) {
			if (!strcmp(req + 5, mode_names[m])) {
				store(&mode_want, m);
				snprintf(out, len, "ok want %s\n", mode_names[m]);
				return;
			}
		}
	}
	snprintf(out, len, "error: unknown request (get, mode off|count|cache)\n");
}

static void *serve(void *unused)
{
	char req[64], out[MAX_VCPUS * 128];

	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		ssize_t got = 0, r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* the socket was closed at exit */
		}
		/* one line, at most sizeof(req) - 1 bytes */
		while (got < (ssize_t)sizeof(req) - 1 &&
		       (r = read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
			got += r;
			if (memchr(req, '\n', got))
				break;
		}
		req[got] = 0;
		req[strcspn(req, "\r\n")] = 0;
		answer(req, out, sizeof(out));
		/* (a client that went away gets nothing: no error to report) */
		got = write(fd, out, strlen(out));
		close(fd);
	}
}

static void on_quit(qemu_plugin_id_t id, void *p)
{
	if (listen_fd >= 0) {
		shutdown(listen_fd, SHUT_RDWR);
		unlink(sock_path);
	}
}

static bool parse_uint(const char *val, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (!*val || *end || v == 0 || v > 1 << 20)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv)
{
	unsigned int line = 64;
	int i, m;

	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *val = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		bool ok = true;

#define KEY(k) (klen == strlen(k) && !strncmp(argv[i], k, klen))
		if (KEY("sock")) {
			sock_path = strdup(val);
		} else if (KEY("mode")) {
			for (m = MODE_OFF; m <= MODE_CACHE && strcmp(val, mode_names[m]); m++)
				;
			ok = m <= MODE_CACHE;
			mode_want = m;
		} else if (KEY("l1")) {
			ok = parse_uint(val, &l1_geo.kib);
		} else if (KEY("l1ways")) {
			ok = parse_uint(val, &l1_geo.ways);
		} else if (KEY("l2")) {
			ok = parse_uint(val, &l2_geo.kib);
		} else if (KEY("l2ways")) {
			ok = parse_uint(val, &l2_geo.ways);
		} else if (KEY("line")) {
			ok = parse_uint(val, &line) && !(line & (line - 1));
		} else {
			ok = false;
		}
#undef KEY
		if (!ok) {
			fprintf(stderr, "cost plugin: bad argument '%s'\n", argv[i]);
			return -1;
		}
	}
	line_shift = __builtin_ctz(line);
	if (!sock_path) {
		fprintf(stderr, "cost plugin: sock=<path> is required\n");
		return -1;
	}
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "cost plugin: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		fprintf(stderr, "cost plugin: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	struct cache probe1 = { 0 }, probe2 = { 0 };
	pthread_t thread;

	if (!info->system_emulation) {
		fprintf(stderr, "cost plugin: for system emulation only\n");
		return -1;
	}
	if (parse_args(argc, argv))
		return -1;
	/* the geometry is checked once here, before any vCPU needs it */
	if (!cache_init(&probe1, &l1_geo) || !cache_init(&probe2, &l2_geo)) {
		fprintf(stderr, "cost plugin: a cache's sets (KiB x 1024 / ways / line) must be a power of two\n");
		return -1;
	}
	free(probe1.tags);
	free(probe2.tags);
	listen_fd = listen_on(sock_path);
	if (listen_fd < 0)
		return -1;
	board = qemu_plugin_scoreboard_new(sizeof(struct counters));
	insn_count = qemu_plugin_scoreboard_u64_in_struct(board, struct counters, insn);
	mem_count = qemu_plugin_scoreboard_u64_in_struct(board, struct counters, mem);
	if (pthread_create(&thread, NULL, serve, NULL)) {
		fprintf(stderr, "cost plugin: cannot start its socket thread\n");
		return -1;
	}
	pthread_detach(thread);
	arm(id);
	return 0;
}
