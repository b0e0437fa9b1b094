/*
 * qemu_compat_cxx.cpp: memspace/qemu-compat.h used from C++11, not only
 * compiled: a device with QEMU-style ops, RAM, an IOMMU class with a
 * notifier, and a listener, in a small machine. Exit status 0 when every
 * check holds.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cstdio>
#include <cstring>

#include <memspace.h>
#include <memspace/qemu-compat.h>

namespace {

int failures;

void check(bool ok, int line)
{
	if (!ok) {
		std::fprintf(stderr, "qemu_compat_cxx: line %d failed\n", line);
		failures++;
	}
}

#define CHECK(x) check((x), __LINE__)

struct Counter {
	Object obj;
	MemoryRegion mmio;
	uint32_t value;
};

uint64_t counter_read(void *opaque, hwaddr, unsigned)
{
	return static_cast<Counter *>(opaque)->value++;
}

void counter_write(void *opaque, hwaddr, uint64_t data, unsigned)
{
	static_cast<Counter *>(opaque)->value = static_cast<uint32_t>(data);
}

MemoryRegionOps counter_ops()
{
	MemoryRegionOps ops;

	std::memset(&ops, 0, sizeof(ops));
	ops.read = counter_read;
	ops.write = counter_write;
	ops.endianness = DEVICE_LITTLE_ENDIAN;
	ops.valid.min_access_size = 4;
	ops.valid.max_access_size = 4;
	return ops;
}

const MemoryRegionOps kCounterOps = counter_ops();

struct Identity {
	IOMMUMemoryRegion iommu;
	AddressSpace *target;
};

IOMMUTLBEntry identity_translate(IOMMUMemoryRegion *iommu, hwaddr addr, IOMMUAccessFlags, int)
{
	Identity *id = reinterpret_cast<Identity *>(iommu); /* iommu is the first member */
	IOMMUTLBEntry e;

	e.target_as = id->target;
	e.iova = addr & ~static_cast<hwaddr>(0xfff);
	e.translated_addr = e.iova;
	e.addr_mask = 0xfff;
	e.perm = IOMMU_RW;
	return e;
}

IOMMUMemoryRegionClass identity_class()
{
	IOMMUMemoryRegionClass c;

	std::memset(&c, 0, sizeof(c));
	c.translate = identity_translate;
	return c;
}

const IOMMUMemoryRegionClass kIdentityClass = identity_class();

unsigned maps;

void on_event(IOMMUNotifier *, IOMMUTLBEntry *e)
{
	if (e->perm != IOMMU_NONE)
		maps++;
}

unsigned adds;

void on_add(MemoryListener *, MemoryRegionSection *)
{
	adds++;
}

} // namespace

int main()
{
	ms_ctx *ctx = nullptr;
	QemuCompat qc;
	Object machine;
	MemoryRegion sysmem, ram;
	AddressSpace memory, dma;
	Counter counter;
	Identity id;
	IOMMUNotifier n;
	MemoryListener l;

	if (ms_ctx_new(&ctx) || qemu_compat_init(&qc, ctx))
		return 1;
	qemu_compat_object_init(&machine, &qc, "machine");
	memory_region_init(&sysmem, &machine, "system", UINT64_MAX);
	CHECK(memory_region_init_ram(&ram, &machine, "ram", 0x10000, nullptr));
	memory_region_add_subregion(&sysmem, 0, &ram);
	address_space_init(&memory, &sysmem, "memory");

	std::memset(&l, 0, sizeof(l));
	l.region_add = on_add;
	memory_listener_register(&l, &memory);
	CHECK(adds == 1);

	qemu_compat_object_init(OBJECT(&counter), &qc, "counter");
	counter.value = 0;
	memory_region_init_io(&counter.mmio, OBJECT(&counter), &kCounterOps, &counter, "counter",
			      0x1000);
	memory_region_add_subregion(&sysmem, 0x100000, &counter.mmio);
	CHECK(adds == 2);
	stl_le_phys(&memory, 0x100000, 41);
	CHECK(ldl_le_phys(&memory, 0x100000) == 41);
	CHECK(counter.value == 42);

	std::memset(&id, 0, sizeof(id));
	id.target = &memory;
	memory_region_init_iommu(&id.iommu, sizeof(id.iommu), &kIdentityClass, &machine, "identity",
				 0x10000);
	address_space_init(&dma, MEMORY_REGION(&id.iommu), "dma");
	stq_le_phys(&memory, 0x2000, 0x1122334455667788ull);
	CHECK(ldq_le_phys(&dma, 0x2000) == 0x1122334455667788ull);

	iommu_notifier_init(&n, on_event, IOMMU_NOTIFIER_ALL, 0, 0xffff, 0);
	CHECK(memory_region_register_iommu_notifier(MEMORY_REGION(&id.iommu), &n, nullptr) == 0);
	IOMMUTLBEvent ev;
	ev.type = IOMMU_NOTIFIER_MAP;
	ev.entry = identity_translate(&id.iommu, 0x3000, IOMMU_NONE, 0);
	memory_region_notify_iommu(&id.iommu, 0, ev);
	CHECK(maps == 1);
	memory_region_unregister_iommu_notifier(MEMORY_REGION(&id.iommu), &n);
	memory_listener_unregister(&l);

	CHECK(qemu_compat_error(&qc, nullptr) == 0);
	ms_ctx_free(ctx);
	return failures ? 1 : 0;
}
