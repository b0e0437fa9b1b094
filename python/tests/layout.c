/*
 * memspace Python bindings: the sizes and field offsets of the public
 * structures, as the C compiler lays them out. test_layout.py compares them
 * with the ctypes declarations of python/memspace/_ffi.py.
 *
 * Output: "STRUCT size N", "STRUCT.FIELD OFFSET" (nested fields dotted) and,
 * for the bit-fields of ms_attrs, "ms_attrs.bits.FIELD MASK": the bits of the
 * struct's first 32-bit word that the field occupies.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <memspace.h>

#define SIZE(T) printf("%s size %zu\n", #T, sizeof(T))
#define FIELD(T, f) printf("%s.%s %zu\n", #T, #f, offsetof(T, f))

/* The bits of the first word of an ms_attrs that @a sets. */
static void attr_bits(const char *field, const ms_attrs *a)
{
	uint32_t word;

	memcpy(&word, a, sizeof(word));
	printf("ms_attrs.bits.%s 0x%" PRIx32 "\n", field, word);
}

/* Set one bit-field to @value in an otherwise zero struct (padding bits included). */
#define ATTR_BITS(field, value)             \
	do {                                \
		ms_attrs a_;                \
		memset(&a_, 0, sizeof(a_)); \
		a_.field = (value);         \
		attr_bits(#field, &a_);     \
	} while (0)

int main(void)
{
	SIZE(ms_attrs);
	FIELD(ms_attrs, pasid);
	ATTR_BITS(unspecified, 1);
	ATTR_BITS(secure, 1);
	ATTR_BITS(user, 1);
	ATTR_BITS(memory, 1);
	ATTR_BITS(debug, 1);
	ATTR_BITS(requester_id, 0xffff);
	ATTR_BITS(pasid_valid, 1);

	SIZE(ms_section);
	FIELD(ms_section, region);
	FIELD(ms_section, start);
	FIELD(ms_section, last);
	FIELD(ms_section, offset_in_region);
	FIELD(ms_section, readonly);
	FIELD(ms_section, nonvolatile);
	FIELD(ms_section, unmergeable);
	FIELD(ms_section, romd);
	FIELD(ms_section, dirty_log_mask);
	FIELD(ms_section, size);
	FIELD(ms_section, as);

	SIZE(ms_region_ops);
	FIELD(ms_region_ops, version);
	FIELD(ms_region_ops, read);
	FIELD(ms_region_ops, write);
	FIELD(ms_region_ops, read_with_attrs);
	FIELD(ms_region_ops, write_with_attrs);
	FIELD(ms_region_ops, endianness);
	FIELD(ms_region_ops, valid);
	FIELD(ms_region_ops, valid.min_access_size);
	FIELD(ms_region_ops, valid.max_access_size);
	FIELD(ms_region_ops, valid.unaligned);
	FIELD(ms_region_ops, valid.accepts);
	FIELD(ms_region_ops, impl);
	FIELD(ms_region_ops, impl.min_access_size);
	FIELD(ms_region_ops, impl.max_access_size);
	FIELD(ms_region_ops, impl.unaligned);
	FIELD(ms_region_ops, request_ptr);

	SIZE(ms_region_io_opts);
	FIELD(ms_region_io_opts, name);
	FIELD(ms_region_io_opts, size);
	FIELD(ms_region_io_opts, ops);
	FIELD(ms_region_io_opts, opaque);

	SIZE(ms_region_alias_opts);
	FIELD(ms_region_alias_opts, name);
	FIELD(ms_region_alias_opts, target);
	FIELD(ms_region_alias_opts, offset);
	FIELD(ms_region_alias_opts, size);

	SIZE(ms_access_opts);
	FIELD(ms_access_opts, is_write);
	FIELD(ms_access_opts, attrs);
	printf("ms_access_opts.attrs.pasid %zu\n",
	       offsetof(ms_access_opts, attrs) + offsetof(ms_attrs, pasid));

	SIZE(ms_listener_ops);
	FIELD(ms_listener_ops, version);
	FIELD(ms_listener_ops, begin);
	FIELD(ms_listener_ops, commit);
	FIELD(ms_listener_ops, region_add);
	FIELD(ms_listener_ops, region_del);
	FIELD(ms_listener_ops, region_nop);
	FIELD(ms_listener_ops, log_start);
	FIELD(ms_listener_ops, log_stop);
	FIELD(ms_listener_ops, log_sync);
	FIELD(ms_listener_ops, log_global_start);
	FIELD(ms_listener_ops, log_global_stop);
	FIELD(ms_listener_ops, priority);
	FIELD(ms_listener_ops, log_global_try_start);
	FIELD(ms_listener_ops, log_clear);
	FIELD(ms_listener_ops, coalesced_io_add);
	FIELD(ms_listener_ops, coalesced_io_del);
	FIELD(ms_listener_ops, eventfd_add);
	FIELD(ms_listener_ops, eventfd_del);

	SIZE(ms_iotlb_entry);
	FIELD(ms_iotlb_entry, target_as);
	FIELD(ms_iotlb_entry, iova);
	FIELD(ms_iotlb_entry, translated_addr);
	FIELD(ms_iotlb_entry, addr_mask);
	FIELD(ms_iotlb_entry, perm);

	SIZE(ms_iommu_event);
	FIELD(ms_iommu_event, type);
	FIELD(ms_iommu_event, entry);
	FIELD(ms_iommu_event, entry.target_as);
	FIELD(ms_iommu_event, entry.iova);
	FIELD(ms_iommu_event, entry.translated_addr);
	FIELD(ms_iommu_event, entry.addr_mask);
	FIELD(ms_iommu_event, entry.perm);

	SIZE(ms_iommu_ops);
	FIELD(ms_iommu_ops, version);
	FIELD(ms_iommu_ops, translate);
	FIELD(ms_iommu_ops, get_min_page_size);
	FIELD(ms_iommu_ops, notify_flag_changed);
	FIELD(ms_iommu_ops, replay);
	FIELD(ms_iommu_ops, get_attr);
	FIELD(ms_iommu_ops, attrs_to_index);
	FIELD(ms_iommu_ops, num_indexes);

	SIZE(ms_iommu_opts);
	FIELD(ms_iommu_opts, name);
	FIELD(ms_iommu_opts, size);
	FIELD(ms_iommu_opts, ops);
	FIELD(ms_iommu_opts, opaque);

	SIZE(ms_iommu_notifier_opts);
	FIELD(ms_iommu_notifier_opts, flags);
	FIELD(ms_iommu_notifier_opts, start);
	FIELD(ms_iommu_notifier_opts, end);
	FIELD(ms_iommu_notifier_opts, iommu_idx);
	FIELD(ms_iommu_notifier_opts, notify);
	FIELD(ms_iommu_notifier_opts, opaque);

	SIZE(ms_ram_opts);
	FIELD(ms_ram_opts, name);
	FIELD(ms_ram_opts, size);
	FIELD(ms_ram_opts, max_size);
	FIELD(ms_ram_opts, backend);
	FIELD(ms_ram_opts, flags);
	FIELD(ms_ram_opts, path);
	FIELD(ms_ram_opts, fd);
	FIELD(ms_ram_opts, offset);
	FIELD(ms_ram_opts, ptr);
	FIELD(ms_ram_opts, align);
	FIELD(ms_ram_opts, resized);
	FIELD(ms_ram_opts, opaque);

	SIZE(ms_ram_info);
	FIELD(ms_ram_info, backend);
	FIELD(ms_ram_info, fd);
	FIELD(ms_ram_info, fd_offset);
	FIELD(ms_ram_info, page_size);
	FIELD(ms_ram_info, shared);
	FIELD(ms_ram_info, readonly);
	FIELD(ms_ram_info, migratable);
	FIELD(ms_ram_info, resizeable);
	FIELD(ms_ram_info, size);
	FIELD(ms_ram_info, max_size);
	FIELD(ms_ram_info, host);
	FIELD(ms_ram_info, align);

	/* The versions of the ops tables and the enum values the bindings hard-code. */
	printf("MS_REGION_OPS_VERSION %u\n", MS_REGION_OPS_VERSION);
	printf("MS_LISTENER_OPS_VERSION %u\n", MS_LISTENER_OPS_VERSION);
	printf("MS_IOMMU_OPS_VERSION %u\n", MS_IOMMU_OPS_VERSION);
	printf("MS_REGION_IOMMU %d\n", (int)MS_REGION_IOMMU);
	printf("MS_RAM_NONE %d\n", (int)MS_RAM_NONE);
	printf("MS_RAM_FLAGS_ALL %u\n", MS_RAM_FLAGS_ALL);
	printf("MS_IOMMU_NOTIFIER_ALL %u\n", MS_IOMMU_NOTIFIER_ALL);
	printf("MS_MTREE_JSON %u\n", MS_MTREE_JSON);
	return 0;
}
