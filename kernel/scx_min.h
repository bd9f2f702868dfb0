/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_min.h - the few sched_ext types and kfuncs scx_auction.bpf.c uses.
 *
 * Why this file exists: a sched_ext scheduler normally includes a vmlinux.h
 * generated from a sched_ext kernel's BTF plus the scx tree's
 * common.bpf.h. The build machine's kernel is built without
 * CONFIG_SCHED_CLASS_EXT, so its BTF has no struct sched_ext_ops and no
 * scx_bpf_* kfuncs. This header declares, by hand and by the upstream names
 * (linux tools/sched_ext/include/scx/common.bpf.h, sched-ext/scx), only what
 * the scheduler touches. It is written from the documented API, not copied.
 *
 * It stays correct on a real sched_ext kernel because nothing here fixes a
 * layout the kernel owns:
 *   - struct task_struct is declared with preserve_access_index: libbpf
 *     relocates the offsets of the fields read (CO-RE) against the running
 *     kernel's BTF;
 *   - struct sched_ext_ops is a SUBSET of the kernel's: libbpf matches the
 *     members of a struct_ops map by name, so a local type may leave members
 *     out, and sizes are checked at load;
 *   - kfuncs are resolved by name against the kernel's BTF at load.
 *
 * Kernel versions: 6.12 named the DSQ kfuncs scx_bpf_dispatch and
 * scx_bpf_consume; 6.13 renamed them scx_bpf_dsq_insert and
 * scx_bpf_dsq_move_to_local. Build with -DSCX_AUCTION_KERNEL_6_12 for 6.12.
 */
#ifndef SCX_MIN_H
#define SCX_MIN_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

typedef __u8 u8;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0

/* Only the fields the scheduler reads; offsets come from the kernel (CO-RE). */
/* Kfunc prototypes are matched against the kernel's by kind and name, so a
 * struct passed by pointer must be in the BTF as a struct, not a forward
 * declaration: task_struct's by-value cpus_mask (never read) puts it there. */
struct cpumask {
	unsigned long bits[1];
} __attribute__((preserve_access_index));

struct sched_ext_entity {
	u32 flags;      /* SCX_TASK_QUEUED: still runnable */
	u64 slice;      /* writable from struct_ops programs */
	u64 dsq_vtime;
} __attribute__((preserve_access_index));

struct sched_entity {
	u64 sum_exec_runtime; /* the kernel's own count of the time run, ns */
} __attribute__((preserve_access_index));

struct task_struct {
	struct sched_ext_entity scx;
	struct sched_entity se;
	int pid;
	int tgid;
	unsigned int flags;
	int nr_cpus_allowed;
	const struct cpumask *cpus_ptr;
	struct cpumask cpus_mask;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id; /* a cgroup v2 directory's inode number */
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct scx_init_task_args {
	bool fork;
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

enum scx_exit_kind { SCX_EXIT_NONE }; /* CO-RE matches an enum to an enum */

struct scx_exit_info {
	enum scx_exit_kind kind;
	s32 exit_cpu;
	s64 exit_code;
	u64 flags;
	const char *reason;
	unsigned long *bt;
	u32 bt_len;
	char *msg;
	char *dump;
} __attribute__((preserve_access_index));

#define PF_KTHREAD 0x00200000

/* Dispatch queue ids (enum scx_dsq_id_flags): built-in queues have bit 63. */
#define SCX_DSQ_FLAG_BUILTIN (1ULL << 63)
#define SCX_DSQ_GLOBAL (SCX_DSQ_FLAG_BUILTIN | 1)
#define SCX_DSQ_LOCAL (SCX_DSQ_FLAG_BUILTIN | 2)
#define SCX_SLICE_DFL 20000000ULL /* 20 ms, as the kernel's default */
#define SCX_KICK_IDLE 1
#define SCX_ENQ_WAKEUP 1ULL
#define SCX_WAKE_SYNC 0x10 /* WF_SYNC: the waker is about to sleep */
#define SCX_TASK_QUEUED 1
#define NUMA_NO_NODE (-1)

/* kfuncs (kernel/sched/ext.c). */
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
			   bool *is_idle) __ksym;
s32 scx_bpf_pick_idle_cpu(const struct cpumask *cpus_allowed, u64 flags) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
#ifdef SCX_AUCTION_KERNEL_6_12
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime,
			    u64 enq_flags) __ksym;
bool scx_bpf_consume(u64 dsq_id) __ksym;
#define scx_bpf_dsq_insert scx_bpf_dispatch
#define scx_bpf_dsq_insert_vtime scx_bpf_dispatch_vtime
#define scx_bpf_dsq_move_to_local scx_bpf_consume
#else
void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
void scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime,
			      u64 enq_flags) __ksym;
bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;
#endif
/* The DSQ's first task without taking it (Linux >= 6.19); weak: absent on an
 * older kernel, where bpf_ksym_exists() is false and the caller does without. */
struct task_struct *scx_bpf_dsq_peek(u64 dsq_id) __ksym __weak;
/* Set a task's slice (Linux >= 6.19, where writing p->scx.slice is deprecated
 * and due to be refused); weak: an older kernel gets the direct write. */
bool scx_bpf_task_set_slice(struct task_struct *p, u64 slice) __ksym __weak;
#ifndef bpf_ksym_exists /* libbpf >= 1.2's bpf_helpers.h has it; Debian 12's 1.1 does not */
#define bpf_ksym_exists(sym) (!!(sym))
#endif

/* The callbacks the scheduler implements, by the kernel's member names;
 * everything else in the kernel's struct keeps its default (zero). */
struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*running)(struct task_struct *p);
	void (*tick)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	s32 (*init_task)(struct task_struct *p, struct scx_init_task_args *args);
	void (*enable)(struct task_struct *p);
	void (*cgroup_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	u64 flags;
	u32 timeout_ms;
	char name[128];
};

/* A struct_ops callback: a BPF program in section struct_ops/<name>. */
#define BPF_STRUCT_OPS(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) \
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/* The scheduler object: a struct_ops map attached through a BPF link, so the
 * scheduler unloads when the link (or the loader holding it) goes away. */
#define SCX_OPS_DEFINE(__name, ...) \
	SEC(".struct_ops.link") struct sched_ext_ops __name = { __VA_ARGS__ }

#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))

#endif
