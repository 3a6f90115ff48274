// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the kernel-mode vRouter module (vrouter.ko), for the compute lab.
 *
 * It allocates what vrouter.ko allocates for its big tables, the same way and in the
 * same order (domain notes §1-§2, tf-vrouter dp-core/vr_btable.c, vr_htable.c,
 * linux/vrouter_mod.c), and nothing else:
 *
 *   1. nexthop table   vr_btable_alloc(vr_nexthops, sizeof(void *))        (Nexthop init)
 *   2. bridge table    __vr_htable_create(vr_bridge_entries, vr_bridge_oentries, 64)  (Fib)
 *   3. flow table      __vr_htable_create(vr_flow_entries, vr_oflow_entries, 256|128) (Flow)
 *
 * __vr_htable_create: main entries (rounded up to a bucket of 4), then the overflow
 * entries, then, only when there is an overflow table, the delete data (one 16-byte
 * record per bucket). Each is a btable: full 4 MiB parts (VR_SINGLE_ALLOC_LIMIT) plus
 * one remainder part, each part __get_free_pages(GFP_ATOMIC | __GFP_ZERO | __GFP_COMP,
 * get_order(size)) -- no reclaim, no compaction.
 *
 * Any failed part frees everything taken and fails the load with -ENOMEM, after one
 * line naming the part. Success logs one line with the blocks taken per node and zone.
 * Every part taken is listed in debugfs: <debugfs>/vrouter_standin/chunks.
 * The module is called "vrouter" so /sys/module/vrouter/parameters/<name> exist as on a
 * real compute node; like vRouter it writes the automatic overflow sizes back.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/slab.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#define VR_SINGLE_ALLOC_LIMIT (4UL * 1024 * 1024)
#define VR_HENTRIES_PER_BUCKET 4
#define VR_BRIDGE_ENTRY_BYTES 64
#define VR_DELETE_DATA_BYTES 16
#define VR_MAX_ORDER_SEEN 16
#define VR_MAX_NODES 8
#define VR_ZONES 4

static unsigned int vr_flow_entries = 512 * 1024;   /* VR_DEF_FLOW_ENTRIES */
static unsigned int vr_oflow_entries;               /* 0: auto, 20 % rounded to 1K */
static unsigned int vr_bridge_entries = 256 * 1024; /* VR_DEF_BRIDGE_ENTRIES */
static unsigned int vr_bridge_oentries;             /* 0: auto */
static unsigned int vr_nexthops = 524288;           /* R1911+; 65536 up to R1910 */
static unsigned int vr_flow_entry_bytes = 256;      /* stand-in only: 256 (R1911+) or 128 (<= R1910) */
static bool vr_nowarn;                              /* stand-in only: add __GFP_NOWARN (vRouter does not) */

module_param(vr_flow_entries, uint, 0444);
MODULE_PARM_DESC(vr_flow_entries, "Flow table main entries");
module_param(vr_oflow_entries, uint, 0444);
MODULE_PARM_DESC(vr_oflow_entries, "Flow table overflow entries (0: 20% of vr_flow_entries, rounded to 1K)");
module_param(vr_bridge_entries, uint, 0444);
MODULE_PARM_DESC(vr_bridge_entries, "Bridge table main entries");
module_param(vr_bridge_oentries, uint, 0444);
MODULE_PARM_DESC(vr_bridge_oentries, "Bridge table overflow entries (0: 20% of vr_bridge_entries, rounded to 1K)");
module_param(vr_nexthops, uint, 0444);
MODULE_PARM_DESC(vr_nexthops, "Nexthop table entries");
module_param(vr_flow_entry_bytes, uint, 0444);
MODULE_PARM_DESC(vr_flow_entry_bytes, "Stand-in: flow entry size, 256 (R1911+) or 128 (up to R1910)");
module_param(vr_nowarn, bool, 0444);
MODULE_PARM_DESC(vr_nowarn, "Stand-in: add __GFP_NOWARN (vRouter does not)");

struct vr_part {
	unsigned long addr;
	unsigned int order;
	int nid;
	const char *zone;
};

struct vr_btable {
	const char *name;
	unsigned int nparts;
	unsigned int taken;
	unsigned long long bytes;
	struct vr_part *parts;
};

enum { T_NEXTHOP, T_BRIDGE, T_BRIDGE_OFLOW, T_BRIDGE_DELETE, T_FLOW, T_FLOW_OFLOW, T_FLOW_DELETE, T_COUNT };

static struct vr_btable tables[T_COUNT] = {
	[T_NEXTHOP] = { .name = "nexthop" },
	[T_BRIDGE] = { .name = "bridge" },
	[T_BRIDGE_OFLOW] = { .name = "bridge-overflow" },
	[T_BRIDGE_DELETE] = { .name = "bridge-delete" },
	[T_FLOW] = { .name = "flow" },
	[T_FLOW_OFLOW] = { .name = "flow-overflow" },
	[T_FLOW_DELETE] = { .name = "flow-delete" },
};

static struct dentry *vr_debugfs;

static unsigned int auto_overflow(unsigned int entries)
{
	return ((entries / 5) + 1023) & ~1023U;
}

static void btable_free(struct vr_btable *t)
{
	unsigned int i;

	for (i = 0; i < t->taken; i++)
		free_pages(t->parts[i].addr, t->parts[i].order);
	kfree(t->parts);
	t->parts = NULL;
	t->taken = 0;
	t->nparts = 0;
}

static unsigned int parts_taken(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < T_COUNT; i++)
		n += tables[i].taken;
	return n;
}

/* vr_btable_alloc(): full 4 MiB parts, then the remainder; lh_page_alloc() for each. */
static int btable_alloc(struct vr_btable *t, unsigned long long entries, unsigned int esz)
{
	unsigned long long total = entries * esz;
	unsigned int full = total / VR_SINGLE_ALLOC_LIMIT;
	unsigned long rem = total % VR_SINGLE_ALLOC_LIMIT;
	gfp_t gfp = GFP_ATOMIC | __GFP_ZERO | __GFP_COMP;
	unsigned int i;

	if (vr_nowarn)
		gfp |= __GFP_NOWARN;
	t->bytes = total;
	t->nparts = full + (rem ? 1 : 0);
	if (!t->nparts)
		return 0;
	t->parts = kcalloc(t->nparts, sizeof(*t->parts), GFP_KERNEL);
	if (!t->parts) {
		pr_err("vrouter: cannot allocate the part list of table=%s\n", t->name);
		return -ENOMEM;
	}
	for (i = 0; i < t->nparts; i++) {
		unsigned long size = i < full ? VR_SINGLE_ALLOC_LIMIT : rem;
		unsigned int order = get_order(PAGE_ALIGN(size));
		unsigned long addr = __get_free_pages(gfp, order);
		struct page *page;

		if (!addr) {
			pr_err("vrouter: chunk failed: table=%s part=%u/%u order=%u bytes=%lu; freeing %u parts taken, load fails with -ENOMEM\n",
			       t->name, i, t->nparts, order, size, parts_taken());
			return -ENOMEM;
		}
		page = virt_to_page((void *)addr);
		t->parts[i].addr = addr;
		t->parts[i].order = order;
		t->parts[i].nid = page_to_nid(page);
		t->parts[i].zone = page_zone(page)->name;
		t->taken++;
	}
	return 0;
}

/* __vr_htable_create(): main (rounded up to a bucket), overflow, delete data if overflow. */
static int htable_create(int main_t, unsigned int entries, unsigned int oentries, unsigned int esz)
{
	unsigned long long main = DIV_ROUND_UP((unsigned long long)entries, VR_HENTRIES_PER_BUCKET) *
				  VR_HENTRIES_PER_BUCKET;
	int ret;

	ret = btable_alloc(&tables[main_t], main, esz);
	if (ret || !oentries)
		return ret;
	ret = btable_alloc(&tables[main_t + 1], oentries, esz);
	if (ret)
		return ret;
	return btable_alloc(&tables[main_t + 2], main / VR_HENTRIES_PER_BUCKET, VR_DELETE_DATA_BYTES);
}

static void free_all(void)
{
	int i;

	for (i = T_COUNT - 1; i >= 0; i--)
		btable_free(&tables[i]);
}

static int chunks_show(struct seq_file *m, void *v)
{
	unsigned int i, j;

	seq_puts(m, "table part order node zone\n");
	for (i = 0; i < T_COUNT; i++)
		for (j = 0; j < tables[i].taken; j++)
			seq_printf(m, "%s %u %u %d %s\n", tables[i].name, j, tables[i].parts[j].order,
				   tables[i].parts[j].nid, tables[i].parts[j].zone);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(chunks);

static void log_success(void)
{
	/* counts[node][zone index in the node][order] */
	static unsigned int counts[VR_MAX_NODES][VR_ZONES][VR_MAX_ORDER_SEEN];
	static const char *names[VR_MAX_NODES][VR_ZONES];
	char line[512];
	int len = 0, n, z, o;
	unsigned int i, j, parts = 0;
	unsigned long long bytes = 0;

	memset(counts, 0, sizeof(counts));
	memset(names, 0, sizeof(names));
	for (i = 0; i < T_COUNT; i++) {
		for (j = 0; j < tables[i].taken; j++) {
			struct vr_part *p = &tables[i].parts[j];
			int nid = p->nid < VR_MAX_NODES ? p->nid : VR_MAX_NODES - 1;

			for (z = 0; z < VR_ZONES; z++)
				if (!names[nid][z] || names[nid][z] == p->zone)
					break;
			if (z == VR_ZONES)
				z = VR_ZONES - 1;
			names[nid][z] = p->zone;
			if (p->order < VR_MAX_ORDER_SEEN)
				counts[nid][z][p->order]++;
			parts++;
			bytes += PAGE_SIZE << p->order;
		}
	}
	for (n = 0; n < VR_MAX_NODES; n++) {
		for (z = 0; z < VR_ZONES && names[n][z]; z++) {
			const char *sep = "=";

			len += scnprintf(line + len, sizeof(line) - len, " node%d/%s", n, names[n][z]);
			for (o = VR_MAX_ORDER_SEEN - 1; o >= 0; o--) {
				if (!counts[n][z][o])
					continue;
				len += scnprintf(line + len, sizeof(line) - len, "%so%d:%u", sep, o, counts[n][z][o]);
				sep = ",";
			}
		}
	}
	pr_info("vrouter: loaded: parts=%u bytes=%llu flow_entries=%u oflow_entries=%u bridge_entries=%u bridge_oentries=%u nexthops=%u flow_entry_bytes=%u;%s\n",
		parts, bytes, vr_flow_entries, vr_oflow_entries, vr_bridge_entries, vr_bridge_oentries,
		vr_nexthops, vr_flow_entry_bytes, line);
}

static int __init vrouter_standin_init(void)
{
	int ret;

	if (vr_flow_entry_bytes != 256 && vr_flow_entry_bytes != 128) {
		pr_err("vrouter: vr_flow_entry_bytes must be 256 or 128, got %u\n", vr_flow_entry_bytes);
		return -EINVAL;
	}
	if (!vr_flow_entries || !vr_bridge_entries || !vr_nexthops) {
		pr_err("vrouter: vr_flow_entries, vr_bridge_entries and vr_nexthops must be positive\n");
		return -EINVAL;
	}
	if (!vr_oflow_entries)
		vr_oflow_entries = auto_overflow(vr_flow_entries);
	if (!vr_bridge_oentries)
		vr_bridge_oentries = auto_overflow(vr_bridge_entries);

	ret = btable_alloc(&tables[T_NEXTHOP], vr_nexthops, sizeof(void *));
	if (!ret)
		ret = htable_create(T_BRIDGE, vr_bridge_entries, vr_bridge_oentries, VR_BRIDGE_ENTRY_BYTES);
	if (!ret)
		ret = htable_create(T_FLOW, vr_flow_entries, vr_oflow_entries, vr_flow_entry_bytes);
	if (ret) {
		free_all();
		return ret;
	}
	vr_debugfs = debugfs_create_dir("vrouter_standin", NULL);
	debugfs_create_file("chunks", 0444, vr_debugfs, NULL, &chunks_fops);
	log_success();
	return 0;
}

static void __exit vrouter_standin_exit(void)
{
	unsigned int parts = parts_taken();

	debugfs_remove_recursive(vr_debugfs);
	free_all();
	pr_info("vrouter: unloaded, freed %u parts\n", parts);
}

module_init(vrouter_standin_init);
module_exit(vrouter_standin_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vRouter stand-in: allocates the flow, bridge and nexthop tables like vrouter.ko (lab only)");
