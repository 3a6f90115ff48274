// SPDX-License-Identifier: GPL-2.0
/*
 * Lab fragmenter: pins unmovable pages so that chosen NUMA nodes have no free 4 MiB
 * (order-10) block where the scenario says so, reproducibly.
 *
 * At load, for each node in `nodes`: allocate order-0 pages with
 * GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY | __GFP_NOWARN (kernel pages: unmovable,
 * compaction cannot move them) until `mb` MiB are taken (0: until the node runs dry),
 * then keep ONE page in every 2^group_order-page group (by PFN; 10 = 4 MiB) whose zone
 * is in `zones`, keeping only every `every`-th such group, and free all the others.
 * Held pages are freed at unload.
 *
 *   insmod vr_frag.ko nodes=1 mb=0               every 4 MiB group of node 1 taken
 *   insmod vr_frag.ko nodes=0,1 mb=800,0 zones=Normal  DMA32 left whole
 *   insmod vr_frag.ko nodes=0 every=4            3 groups in 4 left whole (where grabbed)
 *
 * Logs "vr_frag: node N: grabbed X MiB ..." per node and one summary line.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/list.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/string.h>

#define FRAG_MAX_NODES 8

static int nodes[FRAG_MAX_NODES];
static int nr_nodes;
static unsigned int mb[FRAG_MAX_NODES];
static int nr_mb;
static unsigned int group_order = 10;
static unsigned int every = 1;
static char *zones = "all";

module_param_array(nodes, int, &nr_nodes, 0444);
MODULE_PARM_DESC(nodes, "NUMA nodes to fragment (default: every node with memory)");
module_param_array(mb, uint, &nr_mb, 0444);
MODULE_PARM_DESC(mb, "MiB to grab per node, one value for all or one per node (0: until the node runs dry)");
module_param(group_order, uint, 0444);
MODULE_PARM_DESC(group_order, "Hold one page per 2^group_order pages (10: one per 4 MiB)");
module_param(every, uint, 0444);
MODULE_PARM_DESC(every, "Hold a page only in every N-th group (1: every group)");
module_param(zones, charp, 0444);
MODULE_PARM_DESC(zones, "Comma-separated zone names to fragment (Normal, DMA32, DMA) or all");

static LIST_HEAD(held);
static unsigned long nr_held;

static bool zone_selected(const char *name)
{
	const char *p = zones;
	size_t len = strlen(name);

	if (!strcmp(zones, "all"))
		return true;
	while (p && *p) {
		if (!strncasecmp(p, name, len) && (p[len] == ',' || p[len] == '\0' || p[len] == '\n'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static int fragment_node(int nid, unsigned int limit_mb, unsigned long *groups)
{
	LIST_HEAD(grabbed);
	unsigned long limit = limit_mb ? ((unsigned long)limit_mb << (20 - PAGE_SHIFT)) : ULONG_MAX;
	unsigned long taken = 0, kept = 0, freed = 0, seen_groups = 0;
	gfp_t gfp = GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY | __GFP_NOWARN;
	struct page *page, *next;

	while (taken < limit) {
		page = alloc_pages_node(nid, gfp, 0);
		if (!page)
			break;
		if (page_to_nid(page) != nid) { /* cannot happen with __GFP_THISNODE; be sure */
			__free_page(page);
			break;
		}
		list_add(&page->lru, &grabbed);
		taken++;
		if (!(taken & 0xffff))
			cond_resched();
	}
	list_for_each_entry_safe(page, next, &grabbed, lru) {
		unsigned long group = page_to_pfn(page) >> group_order;

		list_del(&page->lru);
		if (zone_selected(page_zone(page)->name) && !test_bit(group, groups)) {
			set_bit(group, groups);
			if (seen_groups++ % every == 0) {
				list_add(&page->lru, &held);
				kept++;
				continue;
			}
		}
		__free_page(page);
		freed++;
	}
	nr_held += kept;
	pr_info("vr_frag: node %d: grabbed %lu MiB of 4 KiB pages, holding %lu pages (one per %lu KiB group, every %u, zones %s), freed %lu\n",
		nid, taken >> (20 - PAGE_SHIFT), kept, (PAGE_SIZE << group_order) >> 10, every, zones, freed);
	return 0;
}

static void release_held(void)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

static int __init vr_frag_init(void)
{
	unsigned long *groups;
	unsigned long ngroups, end_pfn = 0;
	int i, nid;

	if (group_order > MAX_ORDER - 1 || !every) {
		pr_err("vr_frag: group_order must be 0..%d and every >= 1\n", MAX_ORDER - 1);
		return -EINVAL;
	}
	if (nr_mb > 1 && nr_nodes && nr_mb != nr_nodes) {
		pr_err("vr_frag: give one mb for all nodes or one per node (%d nodes, %d values)\n", nr_nodes, nr_mb);
		return -EINVAL;
	}
	if (!nr_nodes)
		for_each_node_state(nid, N_MEMORY)
			if (nr_nodes < FRAG_MAX_NODES)
				nodes[nr_nodes++] = nid;
	for_each_node_state(nid, N_MEMORY)
		end_pfn = max(end_pfn, node_end_pfn(nid));
	ngroups = (end_pfn >> group_order) + 1;
	groups = bitmap_zalloc(ngroups, GFP_KERNEL);
	if (!groups)
		return -ENOMEM;
	for (i = 0; i < nr_nodes; i++) {
		if (nodes[i] < 0 || nodes[i] >= MAX_NUMNODES || !node_state(nodes[i], N_MEMORY)) {
			pr_err("vr_frag: node %d has no memory\n", nodes[i]);
			bitmap_free(groups);
			release_held();
			return -EINVAL;
		}
		fragment_node(nodes[i], nr_mb == 0 ? 0 : mb[nr_mb == 1 ? 0 : i], groups);
	}
	bitmap_free(groups);
	pr_info("vr_frag: holding %lu pages on %d node(s)\n", nr_held, nr_nodes);
	return 0;
}

static void __exit vr_frag_exit(void)
{
	release_held();
	pr_info("vr_frag: unloaded, freed %lu held pages\n", nr_held);
}

module_init(vr_frag_init);
module_exit(vr_frag_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Lab fragmenter: holds one unmovable page per 4 MiB group on chosen nodes");
