// SPDX-License-Identifier: MIT
/*
 * vm-bench: the VA manager under driver workloads, with and without page
 * tables ("tables" = the paging backend over pgtable, "notables" = the
 * identity backend: the same VA manager, nothing to build).
 *
 *   slots     --vas 4K VAs, one every other page; each request maps a random
 *             4K slot (replacing what is there) or unmaps one. Nothing is
 *             ever split; about a quarter of the requests change nothing.
 *   ranges    --vas VAs of 4K-64K at random pages of a window 17 pages per VA
 *             wide; each request maps (random BO, random offset) or unmaps
 *             4K-64K at a random page: splits (REMAP), unmaps, maps.
 *   sparse    a 64 GiB-per-million-VAs sparse range: with tables, the dummy
 *             page repeated over it and --vas/2 pages bound to BO pages
 *             inside it; a request binds a random page or unbinds a bound
 *             one (maps the dummy page back). The identity backend cannot
 *             repeat a page: there the range starts empty and unbind unmaps.
 *   many-bos  --bos BOs of 4K-256K, each with its own VA; a request maps a
 *             random unmapped BO whole or unmaps a mapped one whole.
 *
 * So that the identity backend (which needs PA == VA) can run the same
 * request stream, BO j's page at offset o is at PA WINDOW_BASE + o - j * SHIFT:
 * "a random BO at a random offset" for the VA manager, PA == VA for both.
 *
 * Each workload runs --reps times per backend, the backends' order
 * alternating from one repetition to the next; the figure is the median ns
 * per request, with the spread (max - min over median). The timed loop is one
 * gvm_bind() call per request, the requests drawn beforehand (the generator
 * is not what is measured), and is bracketed for tools/bench-instr (DOC:
 * instruction counts in bench-util.h); a request's figure includes the loop's
 * few instructions and the error check.
 * --threads N runs the slots workload in 1..N threads, each in its own VM,
 * --reps times, the order of the counts reversed from one repetition to the
 * next; the figure is the median requests/s.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/gvm.h>

#include "bench-util.h"

#define PAGE 4096ull
#define WINDOW_BASE (1ull << 32)
#define NR_OBJS 16
#define OBJ_SHIFT (1ull << 30)
#define MAX_THREADS 16

enum wl_id {
	WL_SLOTS,
	WL_RANGES,
	WL_SPARSE,
	WL_MANY_BOS,
	NR_WL
};
enum backend_id {
	BK_TABLES,
	BK_NOTABLES,
	NR_BK
};

static const char *const wl_names[NR_WL] = { "slots", "ranges", "sparse", "many_bos" };
static const char *const bk_names[NR_BK] = { "tables", "notables" };

struct opts {
	uint64_t vas, requests, bos;
	unsigned int reps, threads;
	bool json;
	bool only[NR_WL]; /* --workload: run only these (none set: all) */
};

/* An object whose page at offset o is at PA @pa0 + o (contiguous). */
struct bench_obj {
	struct gvm_obj obj;
	uint64_t pa0;
};

/* One run of a workload on one VM: its objects and what it keeps track of. */
struct wl {
	enum wl_id id;
	bool tables;
	const struct opts *op;
	struct gvm *vm;
	uint64_t seed;
	uint64_t window; /* pages */
	struct bench_obj objs[NR_OBJS];
	struct bench_obj dummy;
	uint64_t *bound; /* sparse: bound pages; many-bos: BO j mapped */
	uint64_t nr_bound;
	struct bench_obj *bos; /* many-bos */
	uint64_t *bo_va;
};

struct census {
	uint64_t map, remap, unmap, requests;
};

struct result {
	double ns[NR_WL][NR_BK][BENCH_MAX_REPS];
	struct bench_stat stat[NR_WL][NR_BK];
	uint64_t vas_after[NR_WL][NR_BK];
	struct census census[NR_WL];
	double va_bytes_per_va, index_bytes_per_va;
	size_t va_struct_bytes;
	double thread_rps[MAX_THREADS + 1]; /* median of the repetitions */
	struct bench_stat thread_stat[MAX_THREADS + 1];
	struct bench_stat thread_speedup[MAX_THREADS + 1]; /* of each repetition's pair */
	uint64_t thread_contended[MAX_THREADS + 1];
	double thread_locks_per_req[MAX_THREADS + 1];
};

static struct bench_env env;

static int obj_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	struct bench_obj *o = (struct bench_obj *)obj;

	*pa = o->pa0 + offset;
	*contig = obj->size - offset;
	return 0;
}

static const struct gvm_obj_ops obj_ops = { .phys = obj_phys };

static void obj_init(struct bench_obj *o, uint64_t pa0, uint64_t size)
{
	o->pa0 = pa0;
	if (gvm_obj_init(&o->obj, &obj_ops, size))
		bench_die("gvm_obj_init", -EINVAL);
}

static void bind_one(struct gvm *vm, const struct gvm_req *req)
{
	int err = gvm_bind(vm, req, 1, NULL);

	if (err)
		bench_die("gvm_bind", err);
}

/* A map of [@va, @va + @size) by object @j at the offset that puts PA at VA. */
static struct gvm_req map_req(struct wl *w, unsigned int j, uint64_t va, uint64_t size)
{
	struct bench_obj *o = &w->objs[j];

	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = size,
				 .obj = &o->obj,
				 .offset = va - o->pa0,
				 .prot = PT_PROT_READ | PT_PROT_WRITE };
}

static struct gvm_req unmap_req(uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
}

static uint64_t rnd(struct wl *w, uint64_t n)
{
	return bench_below(bench_xorshift(&w->seed), n);
}

/* slots: request i maps or unmaps one random slot of 2 * vas. */
static struct gvm_req slots_req(struct wl *w)
{
	uint64_t r = bench_xorshift(&w->seed);
	uint64_t va = WINDOW_BASE + bench_below(r, w->window) * PAGE;

	return r & 1 ? map_req(w, 0, va, PAGE) : unmap_req(va, PAGE);
}

static void slots_populate(struct wl *w)
{
	w->window = 2 * w->op->vas;
	for (uint64_t i = 0; i < w->op->vas; i++) {
		struct gvm_req req = map_req(w, 0, WINDOW_BASE + 2 * i * PAGE, PAGE);

		bind_one(w->vm, &req);
	}
}

/* ranges: 1 to 16 pages at a random page, by a random BO. */
static struct gvm_req ranges_req(struct wl *w)
{
	uint64_t pages = rnd(w, 16) + 1;
	uint64_t va = WINDOW_BASE + rnd(w, w->window - pages) * PAGE;

	if (rnd(w, 2))
		return map_req(w, (unsigned int)rnd(w, NR_OBJS), va, pages * PAGE);
	return unmap_req(va, pages * PAGE);
}

static void ranges_populate(struct wl *w)
{
	uint64_t page = 0;

	w->window = 17 * w->op->vas + 16;
	for (uint64_t i = 0; i < w->op->vas; i++) {
		uint64_t pages = rnd(w, 16) + 1;
		struct gvm_req req;

		page += rnd(w, 16) + 1; /* a gap: neighbours never touch */
		req = map_req(w, (unsigned int)rnd(w, NR_OBJS), WINDOW_BASE + page * PAGE,
			      pages * PAGE);
		bind_one(w->vm, &req);
		page += pages;
	}
}

/* sparse: the dummy page over the window (tables only), then vas/2 bound pages. */
static struct gvm_req dummy_req(struct wl *w, uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = size,
				 .obj = &w->dummy.obj,
				 .repeat = PAGE,
				 .prot = PT_PROT_READ };
}

static struct gvm_req sparse_bind(struct wl *w)
{
	uint64_t page = rnd(w, w->window);

	w->bound[w->nr_bound++] = page;
	return map_req(w, (unsigned int)rnd(w, NR_OBJS), WINDOW_BASE + page * PAGE, PAGE);
}

static struct gvm_req sparse_req(struct wl *w)
{
	uint64_t i, va;

	if (rnd(w, 2) || !w->nr_bound)
		return sparse_bind(w);
	i = rnd(w, w->nr_bound);
	va = WINDOW_BASE + w->bound[i] * PAGE;
	w->bound[i] = w->bound[--w->nr_bound];
	return w->tables ? dummy_req(w, va, PAGE) : unmap_req(va, PAGE);
}

static void sparse_populate(struct wl *w)
{
	uint64_t n = w->op->vas / 2 ? w->op->vas / 2 : 1;

	w->window = 32 * w->op->vas;
	w->bound = calloc(n + w->op->requests + 2048, sizeof(*w->bound));
	if (!w->bound)
		bench_die("calloc", -ENOMEM);
	obj_init(&w->dummy, 1ull << 39, PAGE);
	if (w->tables) {
		struct gvm_req req = dummy_req(w, WINDOW_BASE, w->window * PAGE);

		bind_one(w->vm, &req);
	}
	for (uint64_t i = 0; i < n; i++) {
		struct gvm_req req = sparse_bind(w);

		bind_one(w->vm, &req);
	}
}

/* many-bos: BO j has its own VA; a request flips a random BO. */
static struct gvm_req bo_req(struct wl *w, uint64_t j, bool map)
{
	struct bench_obj *o = &w->bos[j];

	w->bound[j] = map;
	if (!map)
		return unmap_req(w->bo_va[j], o->obj.size);
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = w->bo_va[j],
				 .size = o->obj.size,
				 .obj = &o->obj,
				 .prot = PT_PROT_READ | PT_PROT_WRITE };
}

static struct gvm_req many_bos_req(struct wl *w)
{
	uint64_t j = rnd(w, w->op->bos);

	return bo_req(w, j, !w->bound[j]);
}

static void many_bos_populate(struct wl *w)
{
	uint64_t va = WINDOW_BASE, n = w->op->bos;

	w->bos = calloc(n, sizeof(*w->bos));
	w->bo_va = calloc(n, sizeof(*w->bo_va));
	w->bound = calloc(n, sizeof(*w->bound));
	if (!w->bos || !w->bo_va || !w->bound)
		bench_die("calloc", -ENOMEM);
	for (uint64_t j = 0; j < n; j++) {
		uint64_t size = (rnd(w, 64) + 1) * PAGE;

		w->bo_va[j] = va;
		obj_init(&w->bos[j], va, size); /* PA == VA */
		va += size + PAGE;
	}
	for (uint64_t j = 0; j < n; j += 2) {
		struct gvm_req req = bo_req(w, j, true);

		bind_one(w->vm, &req);
	}
}

static struct gvm_req next_req(struct wl *w)
{
	switch (w->id) {
	case WL_SLOTS:
		return slots_req(w);
	case WL_RANGES:
		return ranges_req(w);
	case WL_SPARSE:
		return sparse_req(w);
	default:
		return many_bos_req(w);
	}
}

static struct gvm *make_vm(bool tables)
{
	struct gvm_cfg cfg = {
		.start = WINDOW_BASE,
		.end = 1ull << 47,
		.page_lg2 = 12,
		.backend = tables ? &gvm_backend_paging : &gvm_backend_identity,
		.backend_cfg = tables ? &env.cfg : NULL,
	};
	struct gvm *vm;
	int err = gvm_create(&cfg, &vm);

	if (err)
		bench_die("gvm_create", err);
	return vm;
}

static void wl_setup(struct wl *w, enum wl_id id, bool tables, const struct opts *op)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->tables = tables;
	w->op = op;
	w->seed = 0x853c49e6748fea9bull;
	w->vm = make_vm(tables);
	for (unsigned int j = 0; j < NR_OBJS; j++)
		obj_init(&w->objs[j], WINDOW_BASE - j * OBJ_SHIFT, (1ull << 39) + j * OBJ_SHIFT);
	if (id == WL_SLOTS)
		slots_populate(w);
	else if (id == WL_RANGES)
		ranges_populate(w);
	else if (id == WL_SPARSE)
		sparse_populate(w);
	else
		many_bos_populate(w);
}

static void wl_teardown(struct wl *w, struct result *r)
{
	struct gvm_stats st;

	gvm_get_stats(w->vm, &st);
	if (w->id == WL_SLOTS && w->tables) {
		r->va_struct_bytes = st.bytes_per_va;
		r->va_bytes_per_va = st.vas ? (double)st.va_bytes / (double)st.vas : 0;
		r->index_bytes_per_va = st.vas ? (double)st.index_bytes / (double)st.vas : 0;
	}
	r->vas_after[w->id][!w->tables] = st.vas;
	gvm_destroy(w->vm);
	for (unsigned int j = 0; j < NR_OBJS; j++)
		gvm_obj_fini(&w->objs[j].obj);
	if (w->id == WL_SPARSE)
		gvm_obj_fini(&w->dummy.obj);
	for (uint64_t j = 0; w->bos && j < w->op->bos; j++)
		gvm_obj_fini(&w->bos[j].obj);
	free(w->bos);
	free(w->bo_va);
	free(w->bound);
}

static int count_op(void *priv, const struct gvm_op *op)
{
	struct census *c = priv;

	c->map += op->type == GVM_OP_MAP;
	c->remap += op->type == GVM_OP_REMAP;
	c->unmap += op->type == GVM_OP_UNMAP;
	return 0;
}

/* After the timed loop: what 2000 more requests of the stream do, split/merge-wise. */
static void take_census(struct wl *w, struct census *c)
{
	static const struct gvm_op_cb cb = { .op = count_op };

	memset(c, 0, sizeof(*c));
	for (unsigned int i = 0; i < 2000; i++) {
		struct gvm_req req = next_req(w);

		if (gvm_sm_ops(w->vm, &req, &cb, c))
			bench_die("gvm_sm_ops", -EIO);
		bind_one(w->vm, &req);
		c->requests++;
	}
}

/*
 * The next @n requests of the stream, drawn before the timed loop so that it
 * times gvm_bind() alone (the generator's state never depends on the VM's).
 */
static struct gvm_req *draw_requests(struct wl *w, uint64_t n)
{
	struct gvm_req *reqs = calloc(n, sizeof(*reqs));

	if (!reqs)
		bench_die("calloc", -ENOMEM);
	for (uint64_t i = 0; i < n; i++)
		reqs[i] = next_req(w);
	return reqs;
}

static void bind_all(struct gvm *vm, const struct gvm_req *reqs, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		bind_one(vm, &reqs[i]);
}

static void run_one(enum wl_id id, bool tables, unsigned int rep, const struct opts *op,
		    struct result *r)
{
	struct gvm_req *reqs;
	char name[64];
	struct wl w;
	double t0;

	wl_setup(&w, id, tables, op);
	reqs = draw_requests(&w, op->requests);
	snprintf(name, sizeof(name), "vm_%s_%s", wl_names[id], bk_names[!tables]);
	bench_case_begin();
	t0 = bench_now_ns();
	bind_all(w.vm, reqs, op->requests);
	r->ns[id][!tables][rep] = (bench_now_ns() - t0) / (double)op->requests;
	bench_case_end(name, op->requests);
	free(reqs);
	if (rep == 0 && tables)
		take_census(&w, &r->census[id]);
	wl_teardown(&w, r);
}

static void run_workloads(const struct opts *op, struct result *r)
{
	for (unsigned int id = 0; id < NR_WL; id++) {
		if (!op->only[id])
			continue;
		for (unsigned int rep = 0; rep < op->reps; rep++) {
			bool first_tables = rep % 2 == 0; /* alternate the order */

			run_one(id, first_tables, rep, op, r);
			run_one(id, !first_tables, rep, op, r);
		}
		for (unsigned int b = 0; b < NR_BK; b++)
			bench_stat(r->ns[id][b], op->reps, &r->stat[id][b]);
	}
}

/* --threads: thread t binds the slots workload in its own VM, all on one pool. */
struct thread_arg {
	const struct opts *op;
	struct opts small;
	struct wl w;
	pthread_barrier_t *start;
};

static void *thread_main(void *arg)
{
	struct thread_arg *a = arg;

	pthread_barrier_wait(a->start);
	/*
	 * Drawn as they go, unlike run_one()'s: two threads streaming their
	 * drawn requests from memory would compete for its bandwidth, which is
	 * not what this measures.
	 */
	for (uint64_t i = 0; i < a->small.requests; i++) {
		struct gvm_req req = next_req(&a->w);

		bind_one(a->w.vm, &req);
	}
	return NULL;
}

/* Requests per second of @n threads together, and the pool lock's contention. */
static double run_threads(const struct opts *op, unsigned int n, uint64_t *contended,
			  double *locks_per_req)
{
	struct thread_arg args[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t start;
	struct pt_pool_stats before, after;
	struct result scratch;
	double t0;

	pthread_barrier_init(&start, NULL, n + 1);
	for (unsigned int t = 0; t < n; t++) {
		args[t].op = op;
		args[t].small = *op;
		args[t].small.vas = op->vas / 8 ? op->vas / 8 : 1;
		args[t].start = &start;
		wl_setup(&args[t].w, WL_SLOTS, true, &args[t].small);
		args[t].w.seed += t;
	}
	for (unsigned int t = 0; t < n; t++)
		if (pthread_create(&tid[t], NULL, thread_main, &args[t]))
			bench_die("pthread_create", -EAGAIN);
	pt_pool_get_stats(env.pool, &before);
	/* Before the threads are released: read after, it could follow their end. */
	t0 = bench_now_ns();
	pthread_barrier_wait(&start);
	for (unsigned int t = 0; t < n; t++)
		pthread_join(tid[t], NULL);
	t0 = bench_now_ns() - t0;
	pt_pool_get_stats(env.pool, &after);
	*contended = after.lock_contended - before.lock_contended;
	/* less the one pt_pool_get_stats() took */
	*locks_per_req = (double)(after.lock_taken - before.lock_taken - 1) /
			 ((double)n * (double)op->requests);
	for (unsigned int t = 0; t < n; t++)
		wl_teardown(&args[t].w, &scratch);
	pthread_barrier_destroy(&start);
	return (double)n * (double)op->requests / (t0 / 1e9);
}

/*
 * Each thread count --reps times, the counts' order reversed from one
 * repetition to the next (a first run pays the pool's growth and cold
 * caches; always running one thread first flattered the ratio): the median
 * requests/s, the contentions summed, the lock use at its worst.
 */
static void run_thread_counts(const struct opts *op, struct result *r)
{
	double rps[MAX_THREADS + 1][BENCH_MAX_REPS];

	for (unsigned int rep = 0; rep < op->reps; rep++) {
		for (unsigned int k = 1; k <= op->threads; k++) {
			unsigned int n = rep % 2 ? op->threads + 1 - k : k;
			uint64_t contended;
			double locks;

			rps[n][rep] = run_threads(op, n, &contended, &locks);
			r->thread_contended[n] += contended;
			if (locks > r->thread_locks_per_req[n])
				r->thread_locks_per_req[n] = locks;
		}
	}
	for (unsigned int n = 1; n <= op->threads; n++) {
		double speedup[BENCH_MAX_REPS];

		/*
		 * Each repetition runs every count back to back: their ratio sees
		 * the same state of a shared host, which the ratio of medians
		 * taken from different moments does not.
		 */
		for (unsigned int rep = 0; rep < op->reps; rep++)
			speedup[rep] = rps[n][rep] / rps[1][rep];
		bench_stat(rps[n], op->reps, &r->thread_stat[n]);
		bench_stat(speedup, op->reps, &r->thread_speedup[n]);
		r->thread_rps[n] = r->thread_stat[n].median;
	}
}

static void print_text(const struct opts *op, const struct result *r)
{
	printf("vm-bench: --vas %" PRIu64 ", %" PRIu64 " requests per run, median of %u runs "
	       "(spread = max-min over median), backend order alternated\n\n",
	       op->vas, op->requests, op->reps);
	printf("%-10s %-9s %12s %8s %12s %10s   ops per 2000 requests (tables)\n", "workload",
	       "backend", "ns/request", "spread", "requests/s", "VAs after");
	for (unsigned int id = 0; id < NR_WL; id++) {
		const struct census *c = &r->census[id];

		if (!op->only[id])
			continue;
		for (unsigned int b = 0; b < NR_BK; b++) {
			const struct bench_stat *s = &r->stat[id][b];

			printf("%-10s %-9s %12.1f %7.0f%% %12.0f %10" PRIu64, wl_names[id],
			       bk_names[b], s->median, bench_spread_pct(s), 1e9 / s->median,
			       r->vas_after[id][b]);
			if (b == BK_TABLES)
				printf("   map %" PRIu64 ", remap %" PRIu64 ", unmap %" PRIu64,
				       c->map, c->remap, c->unmap);
			printf("\n");
		}
	}
	if (op->only[WL_SLOTS])
		printf("\nbytes per VA (slots, tables): %.1f = %.1f VA objects (struct gvm_va is "
		       "%zu, in slabs) + %.1f index (B+ tree nodes, spares included)\n",
		       r->va_bytes_per_va + r->index_bytes_per_va, r->va_bytes_per_va,
		       r->va_struct_bytes, r->index_bytes_per_va);
	for (unsigned int n = 1; n <= op->threads; n++)
		printf("%s%u thread(s), own VM each (slots, %" PRIu64 " VAs): %.0f requests/s "
		       "(median of %u, spread %.0f%%); %.2fx one thread (median of the "
		       "repetitions' ratios, spread %.0f%%), pool lock taken %.4f times per "
		       "request, contended %" PRIu64 " times\n",
		       n == 1 ? "\n" : "", n, op->vas / 8, r->thread_rps[n], op->reps,
		       bench_spread_pct(&r->thread_stat[n]), r->thread_speedup[n].median,
		       bench_spread_pct(&r->thread_speedup[n]), r->thread_locks_per_req[n],
		       r->thread_contended[n]);
}

static void print_json(const struct opts *op, const struct result *r)
{
	printf("{\"vas\": %" PRIu64 ", \"requests\": %" PRIu64 ", \"reps\": %u", op->vas,
	       op->requests, op->reps);
	for (unsigned int id = 0; id < NR_WL; id++) {
		if (!op->only[id])
			continue;
		for (unsigned int b = 0; b < NR_BK; b++)
			printf(", \"%s_%s_ns_per_request\": %.2f, \"%s_%s_spread_pct\": %.1f",
			       wl_names[id], bk_names[b], r->stat[id][b].median, wl_names[id],
			       bk_names[b], bench_spread_pct(&r->stat[id][b]));
		printf(", \"%s_remaps_per_2000\": %" PRIu64, wl_names[id], r->census[id].remap);
	}
	if (op->only[WL_SLOTS])
		printf(", \"bytes_per_va\": %.2f, \"va_object_bytes_per_va\": %.2f, "
		       "\"index_bytes_per_va\": %.2f, \"va_struct_bytes\": %zu",
		       r->va_bytes_per_va + r->index_bytes_per_va, r->va_bytes_per_va,
		       r->index_bytes_per_va, r->va_struct_bytes);
	for (unsigned int n = 1; n <= op->threads; n++)
		printf(", \"threads_%u_requests_per_s\": %.0f, \"threads_%u_speedup\": %.3f"
		       ", \"threads_%u_lock_contended\": %" PRIu64
		       ", \"threads_%u_locks_per_request\": %.4f",
		       n, r->thread_rps[n], n, r->thread_speedup[n].median, n,
		       r->thread_contended[n], n, r->thread_locks_per_req[n]);
	printf("}\n");
}

static int parse_workloads(char *list, struct opts *op)
{
	for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
		unsigned int id = 0;

		while (id < NR_WL && strcmp(s, wl_names[id]))
			id++;
		if (id == NR_WL)
			return -EINVAL;
		op->only[id] = true;
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *op)
{
	bool any = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			op->json = true;
			continue;
		}
		if (i + 1 >= argc)
			return -EINVAL;
		if (!strcmp(a, "--vas"))
			op->vas = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--requests"))
			op->requests = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--bos"))
			op->bos = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--reps"))
			op->reps = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--threads"))
			op->threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--workload") && !parse_workloads(argv[++i], op))
			any = true;
		else
			return -EINVAL;
	}
	for (unsigned int id = 0; !any && id < NR_WL; id++)
		op->only[id] = true;
	return op->vas && op->requests && op->bos && op->vas < (1ull << 26) && op->reps &&
			       op->reps <= BENCH_MAX_REPS && op->threads <= MAX_THREADS ?
		       0 :
		       -EINVAL;
}

int main(int argc, char **argv)
{
	struct opts op = { .vas = 1000000, .requests = 200000, .bos = 8192, .reps = 3 };
	static struct result r;

	if (parse(argc, argv, &op)) {
		fprintf(stderr,
			"usage: vm-bench [--vas N] [--requests N] [--bos N] [--reps N] "
			"[--workload slots,ranges,sparse,many_bos] [--threads N] [--json]\n");
		return 2;
	}
	bench_env_init(&env);
	run_workloads(&op, &r);
	run_thread_counts(&op, &r);
	if (op.json)
		print_json(&op, &r);
	else
		print_text(&op, &r);
	bench_env_fini(&env);
	return 0;
}
