/*
 * memspace CLI: the command table - every script command, its handler and
 * the parameters it takes - and what is generated from it: usage lines, the
 * help, the option list the shell completes.
 *
 * Parameters are declared once, here: the dispatcher, the usage line and the
 * option getters (args.c) all read the same list. Commands keep the order of
 * the help summary; names are unique.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <string.h>

#include "script_int.h"

/* Builders for parameter lists (kept on one line each: clang-format would split them). */
/* clang-format off */
#define ARG(n, ...) {.kind = MSC_P_ARG, .name = (n), __VA_ARGS__}
#define FLAG(n, ...) {.kind = MSC_P_FLAG, .name = (n), __VA_ARGS__}
#define VALUE(n, m, t, ...) {.kind = MSC_P_VALUE, .name = (n), .meta = (m), .type = (t), __VA_ARGS__}
#define GROUP(n, g, ...) {.kind = MSC_P_GROUP, .name = (n), .group = (g), __VA_ARGS__}
#define INCLUDE(g) {.kind = MSC_P_INCLUDE, .group = (g)}
#define END {.kind = MSC_P_END}
/* A command table entry: name, handler, parameters, help, then .flags and .arg if any. */
#define CMD(n, f, p, h, ...) {.name = (n), .fn = (f), .params = (p), .help = (h), __VA_ARGS__}
/* clang-format on */
/* A parameter list for a command table entry. */
#define PARAMS(...) ((const msc_param[]){__VA_ARGS__, END})

static const msc_name endian_names[] = {
	{"little", MS_ENDIAN_LITTLE},
	{"big", MS_ENDIAN_BIG},
	{"native", MS_ENDIAN_NATIVE},
	{NULL, 0},
};

/* What perm= takes, and how permissions print ("none" for no access). */
const msc_name msc_perm_names[] = {
	{"ro", MS_IOMMU_RO},
	{"wo", MS_IOMMU_WO},
	{"rw", MS_IOMMU_RW},
	{NULL, 0},
};

/* What perm= of the TCE commands takes: the TCE's permission bits. */
const msc_name msc_tce_perm_names[] = {
	{"ro", (int)MS_TCE_READ},
	{"wo", (int)MS_TCE_WRITE},
	{"rw", (int)MS_TCE_RW},
	{"none", 0},
	{NULL, 0},
};

static const msc_name notifier_flag_names[] = {
	{"map", MS_IOMMU_NOTIFIER_MAP},
	{"unmap", MS_IOMMU_NOTIFIER_UNMAP},
	{"deviotlb", MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP},
	{NULL, 0},
};

/* The backend options of ram and rom (backend.h). fd and ptr are not for scripts. */
static const msc_name ram_backend_names[] = {
	{"anon", MS_RAM_ANON},
	{"memfd", MS_RAM_MEMFD},
	{"file", MS_RAM_FILE},
	{"none", MS_RAM_NONE},
	{NULL, 0},
};

static const msc_param ram_params[] = {
	VALUE("backend", "anon|memfd|file|none", MSC_V_KEYWORD, .names = ram_backend_names),
	VALUE("path", "FILE", MSC_V_TEXT),
	VALUE("offset", "N", MSC_V_NUMBER, .what = "offset"),
	VALUE("max", "SIZE", MSC_V_NUMBER, .what = "size"),
	VALUE("align", "SIZE", MSC_V_NUMBER, .what = "alignment"),
	FLAG("shared"),
	FLAG("readonly"),
	FLAG("prealloc"),
	FLAG("nomigrate"),
	END,
};

/* The memory transaction attributes of an access (ATTRS). */
const msc_param msc_attr_params[] = {
	FLAG("secure"),
	FLAG("nonsecure"),
	FLAG("user"),
	FLAG("memory"),
	FLAG("debug"),
	VALUE("requester", "N", MSC_V_NUMBER, .what = "requester id"),
	VALUE("pasid", "N", MSC_V_NUMBER, .what = "pasid"),
	END,
};

/* Where a new region goes, and its owner. */
static const msc_param place_params[] = {
	VALUE("in", "C", MSC_V_REGION),
	VALUE("at", "ADDR", MSC_V_NUMBER, .what = "address", .layout = MSC_L_JOIN),
	VALUE("prio", "N", MSC_V_PRIO, .layout = MSC_L_NEST),
	VALUE("owner", "TEXT", MSC_V_TEXT),
	END,
};

/* The options of a device model (devices.h). */
const msc_param msc_model_params[] = {
	VALUE("value", "N", MSC_V_NUMBER, .what = "value"),
	VALUE("as", "AS", MSC_V_AS),
	VALUE("endian", "little|big|native", MSC_V_KEYWORD, .names = endian_names),
	VALUE("valid", "MIN-MAX", MSC_V_SIZES),
	VALUE("impl", "MIN-MAX", MSC_V_SIZES),
	FLAG("unaligned"),
	FLAG("secure-only"),
	VALUE("log", "on|off", MSC_V_BOOL),
	END,
};

static const msc_param set_params[] = {
	VALUE("addr", "ADDR", MSC_V_NUMBER, .what = "address", .arg = MSC_SET_ADDR),
	VALUE("size", "SIZE", MSC_V_SIZE, .what = "size", .arg = MSC_SET_SIZE),
	VALUE("prio", "N", MSC_V_PRIO, .arg = MSC_SET_PRIO),
	VALUE("enabled", "on|off", MSC_V_BOOL, .arg = MSC_SET_ENABLED),
	VALUE("readonly", "on|off", MSC_V_BOOL, .arg = MSC_SET_READONLY),
	VALUE("nonvolatile", "on|off", MSC_V_BOOL, .arg = MSC_SET_NONVOLATILE),
	VALUE("unmergeable", "on|off", MSC_V_BOOL, .arg = MSC_SET_UNMERGEABLE),
	VALUE("romd", "on|off", MSC_V_BOOL, .arg = MSC_SET_ROMD),
	VALUE("alias-offset", "OFFSET", MSC_V_NUMBER, .what = "offset",
	      .arg = MSC_SET_ALIAS_OFFSET),
	VALUE("owner", "TEXT", MSC_V_TEXT, .arg = MSC_SET_OWNER),
	END,
};

/* ---- the command table ------------------------------------------------- */

/* The address space an access goes to: [as=AS]. */
#define AS_OPTION VALUE("as", "AS", MSC_V_AS)
/* [ATTRS] */
#define ATTRS GROUP("ATTRS", msc_attr_params, .layout = MSC_L_OPTIONAL)
/* [be|le] */
#define ENDIAN_OPTIONS FLAG("be"), FLAG("le", .layout = MSC_L_ALT)
/* [index=N] */
#define INDEX_OPTION VALUE("index", "N", MSC_V_NUMBER, .what = "index")
/* [perm=ro|wo|rw|none] of the TCE commands */
#define TCE_PERM_OPTION VALUE("perm", "ro|wo|rw|none", MSC_V_KEYWORD, .names = msc_tce_perm_names)
/* No arguments, no options. */
#define NO_PARAMS ((const msc_param[]){END})

static const msc_command commands[] = {
	CMD("container", msc_do_region, PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	    "a pure container: renders only its subregions", .arg = MS_REGION_CONTAINER),
	CMD("ram", msc_do_region,
	    PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(ram_params), INCLUDE(place_params)),
	    "RAM (zeroed), on a backend (docs/ram.md)", .arg = MS_REGION_RAM),
	CMD("rom", msc_do_region,
	    PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(ram_params), INCLUDE(place_params)),
	    "ROM: readonly RAM, filled with load", .arg = MS_REGION_ROM),
	CMD("io", msc_do_region,
	    PARAMS(ARG("NAME"), ARG("SIZE"), ARG("MODEL", .layout = MSC_L_OPTIONAL),
		   GROUP("model options", msc_model_params, .layout = MSC_L_OPTIONAL | MSC_L_NEST),
		   INCLUDE(place_params)),
	    "an I/O region with a device model (regs, const, error, dma), or a reservation",
	    .arg = MS_REGION_IO),
	CMD("romdevice", msc_do_region,
	    PARAMS(ARG("NAME"), ARG("SIZE"), ARG("MODEL"),
		   GROUP("model options", msc_model_params, .layout = MSC_L_OPTIONAL),
		   INCLUDE(place_params)),
	    "a ROM device: reads from RAM in romd mode, writes go to the model",
	    .arg = MS_REGION_ROM_DEVICE),
	CMD("ramdevice", msc_do_region, PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	    "device memory accessed with exact-width loads and stores",
	    .arg = MS_REGION_RAM_DEVICE),
	CMD("ramptr", msc_do_region, PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	    "RAM at memory the command allocates (a caller's pointer)", .arg = MS_REGION_RAM_PTR),
	CMD("iommu", msc_do_iommu,
	    PARAMS(ARG("NAME"), ARG("SIZE"), VALUE("target", "AS", MSC_V_AS),
		   VALUE("page", "SIZE", MSC_V_NUMBER, .what = "page size", .layout = MSC_L_NEST),
		   VALUE("indexes", "N", MSC_V_NUMBER, .what = "index count", .layout = MSC_L_NEST),
		   INCLUDE(place_params)),
	    "an IOMMU region; target=AS: translated by a page table (iommu-map)",
	    .arg = MS_REGION_IOMMU),
	CMD("alias", msc_do_alias,
	    PARAMS(ARG("NAME"), ARG("TARGET"), ARG("OFFSET"), ARG("SIZE"), INCLUDE(place_params)),
	    "a window of SIZE bytes onto TARGET from OFFSET"),
	CMD("add", msc_do_add,
	    PARAMS(ARG("CONTAINER"), ARG("ADDR"), ARG("SUB"), VALUE("prio", "N", MSC_V_PRIO)),
	    "place SUB inside CONTAINER at ADDR"),
	CMD("del", msc_do_del, PARAMS(ARG("SUB"), VALUE("from", "CONTAINER", MSC_V_REGION)),
	    "remove SUB from its container"),
	CMD("set", msc_do_set,
	    PARAMS(ARG("NAME"), GROUP("KEY=VALUE", set_params, .layout = MSC_L_REPEAT)),
	    "change addr, size, prio, enabled, readonly, nonvolatile, unmergeable, romd, alias-offset, owner"),
	CMD("enable", msc_do_enable, PARAMS(ARG("NAME", .layout = MSC_L_REPEAT)), "show regions",
	    .arg = true),
	CMD("disable", msc_do_enable, PARAMS(ARG("NAME", .layout = MSC_L_REPEAT)),
	    "hide regions (they render nothing)", .arg = false),
	CMD("drop", msc_do_drop, PARAMS(ARG("NAME")),
	    "forget a region and drop the script's reference"),
	CMD("show", msc_do_show, PARAMS(ARG("NAME")), "print a region's properties and subregions"),
	CMD("raminfo", msc_do_raminfo, PARAMS(ARG("NAME")),
	    "print a RAM-backed region's backend (docs/ram.md)"),
	CMD("resize", msc_do_resize, PARAMS(ARG("NAME"), ARG("SIZE")),
	    "change the used size of resizeable RAM (ram ... max=SIZE)"),
	CMD("list", msc_do_list, NO_PARAMS, "list regions, address spaces, listeners, mappings"),
	CMD("as", msc_do_as, PARAMS(ARG("NAME"), ARG("ROOT")),
	    "create an address space (the first becomes current)"),
	CMD("as-free", msc_do_as_free, PARAMS(ARG("NAME")), "destroy an address space"),
	CMD("use", msc_do_use, PARAMS(ARG("NAME")), "make NAME the current address space"),
	CMD("begin", msc_do_begin, NO_PARAMS, "open a transaction (nests)"),
	CMD("commit", msc_do_commit, NO_PARAMS, "close a transaction; the outermost renders"),
	CMD("read", msc_do_read, PARAMS(ARG("ADDR"), ARG("LEN"), ATTRS, AS_OPTION),
	    "read bytes and print them"),
	CMD("write", msc_do_write,
	    PARAMS(ARG("ADDR"), ARG("DATA", .layout = MSC_L_REPEAT), ATTRS, AS_OPTION),
	    "write hex bytes (de ad be ef) or quoted strings", .arg = MSC_WRITE_GUEST),
	CMD("load", msc_do_write,
	    PARAMS(ARG("ADDR"), ARG("DATA", .layout = MSC_L_REPEAT), AS_OPTION),
	    "loader write: into RAM and ROM, never devices", .arg = MSC_WRITE_LOADER),
	CMD("fill", msc_do_fill, PARAMS(ARG("ADDR"), ARG("LEN"), ARG("BYTE"), ATTRS, AS_OPTION),
	    "write LEN copies of BYTE"),
	CMD("ldb", msc_do_ld, PARAMS(ARG("ADDR"), ATTRS, AS_OPTION), "load a byte", .arg = 1),
	CMD("ldw", msc_do_ld, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION), "load 2 bytes",
	    .arg = 2),
	CMD("ldl", msc_do_ld, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION), "load 4 bytes",
	    .arg = 4),
	CMD("ldq", msc_do_ld, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION), "load 8 bytes",
	    .arg = 8),
	CMD("stb", msc_do_st, PARAMS(ARG("ADDR"), ARG("VALUE"), ATTRS, AS_OPTION), "store a byte",
	    .arg = 1),
	CMD("stw", msc_do_st, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	    "store 2 bytes", .arg = 2),
	CMD("stl", msc_do_st, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	    "store 4 bytes", .arg = 4),
	CMD("stq", msc_do_st, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	    "store 8 bytes", .arg = 8),
	CMD("translate", msc_do_translate,
	    PARAMS(ARG("ADDR"), ARG("LEN", .layout = MSC_L_OPTIONAL), FLAG("write"), ATTRS,
		   AS_OPTION),
	    "what answers at ADDR, and for how many bytes"),
	CMD("valid", msc_do_valid, PARAMS(ARG("ADDR"), ARG("LEN"), FLAG("write"), ATTRS, AS_OPTION),
	    "would the access be accepted? (no device callback runs)"),
	CMD("access-depth", msc_do_access_depth, PARAMS(ARG("N")),
	    "bound nested device callbacks (default 16)"),
	CMD("map", msc_do_map, PARAMS(ARG("ADDR"), ARG("LEN"), FLAG("write"), ATTRS, AS_OPTION),
	    "DMA-map guest memory; prints the mapping's id"),
	CMD("map-read", msc_do_map_read, PARAMS(ARG("ID"), ARG("OFFSET"), ARG("LEN")),
	    "print bytes of a mapping"),
	CMD("map-write", msc_do_map_write,
	    PARAMS(ARG("ID"), ARG("OFFSET"), ARG("DATA", .layout = MSC_L_REPEAT)),
	    "store bytes into a write mapping"),
	CMD("unmap", msc_do_unmap, PARAMS(ARG("ID"), ARG("WRITTEN", .layout = MSC_L_OPTIONAL)),
	    "release a mapping (a write mapping writes back WRITTEN bytes, default all)"),
	CMD("bounce-budget", msc_do_bounce_budget, PARAMS(ARG("BYTES"), AS_OPTION),
	    "bytes of bounce buffers that may be live at once"),
	CMD("map-client", msc_do_map_client, PARAMS(ARG("NAME"), AS_OPTION),
	    "ask to be told when bounce budget is free"),
	CMD("map-client-free", msc_do_map_client_free, PARAMS(ARG("NAME")),
	    "unregister a map client"),
	CMD("listen", msc_do_listen,
	    PARAMS(ARG("NAME"), AS_OPTION, VALUE("prio", "N", MSC_V_PRIO),
		   VALUE("nop", "off", MSC_V_BOOL)),
	    "register a listener that prints its callbacks"),
	CMD("unlisten", msc_do_unlisten, PARAMS(ARG("NAME")), "unregister a listener"),
	CMD("dirty-log", msc_do_dirty_log, PARAMS(ARG("REGION"), ARG("CLIENT"), ARG("on|off")),
	    "turn dirty logging of a RAM region on or off for a client"),
	CMD("coalesce", msc_do_coalesce, PARAMS(ARG("REGION"), ARG("OFFSET"), ARG("SIZE")),
	    "mark part of a device region as coalesced MMIO (listeners hear it)"),
	CMD("coalesce-clear", msc_do_coalesce_clear, PARAMS(ARG("REGION")),
	    "forget a device region's coalesced MMIO ranges"),
	CMD("eventfd", msc_do_eventfd,
	    PARAMS(ARG("REGION"), ARG("OFFSET"), ARG("SIZE"),
		   VALUE("data", "N", MSC_V_NUMBER, .what = "data")),
	    "an ioeventfd: matching writes signal it instead of the device (SIZE 0: any)"),
	CMD("eventfd-del", msc_do_eventfd_del,
	    PARAMS(ARG("REGION"), ARG("OFFSET"), ARG("SIZE"),
		   VALUE("data", "N", MSC_V_NUMBER, .what = "data")),
	    "remove an ioeventfd made by eventfd"),
	CMD("eventfds", msc_do_eventfds, NO_PARAMS,
	    "print each ioeventfd's signal count since the last look"),
	CMD("log-global", msc_do_log_global, PARAMS(ARG("start|stop")),
	    "global dirty logging: MIGRATION logs all RAM"),
	CMD("log-sync", msc_do_log_sync, PARAMS(AS_OPTION), "ask listeners to sync dirty state"),
	CMD("dirty", msc_do_dirty,
	    PARAMS(ARG("REGION"), ARG("CLIENT", .layout = MSC_L_OPTIONAL),
		   ARG("OFFSET", .layout = MSC_L_OPTIONAL),
		   ARG("SIZE", .layout = MSC_L_OPTIONAL | MSC_L_JOIN)),
	    "print a RAM region's dirty page ranges"),
	CMD("dirty-set", msc_do_dirty_set, PARAMS(ARG("REGION"), ARG("OFFSET"), ARG("SIZE")),
	    "mark pages dirty, as a write behind the library's back"),
	CMD("dirty-reset", msc_do_dirty_reset,
	    PARAMS(ARG("REGION"), ARG("CLIENT"), ARG("OFFSET", .layout = MSC_L_OPTIONAL),
		   ARG("SIZE", .layout = MSC_L_OPTIONAL | MSC_L_JOIN)),
	    "clear a client's dirty bits (whole pages)"),
	CMD("snapshot", msc_do_snapshot,
	    PARAMS(ARG("REGION"), ARG("CLIENT"), ARG("OFFSET", .layout = MSC_L_OPTIONAL),
		   ARG("SIZE", .layout = MSC_L_OPTIONAL | MSC_L_JOIN)),
	    "take and clear dirty bits (64-page words); print them"),
	CMD("dirty-page-size", msc_do_dirty_page_size,
	    PARAMS(ARG("SIZE", .layout = MSC_L_OPTIONAL)),
	    "print or set the dirty page size (before any RAM)"),
	CMD("ram-save", msc_do_ram_save, PARAMS(ARG("FILE")),
	    "write every migratable RAM block to FILE (a RAM stream)"),
	CMD("ram-load", msc_do_ram_load, PARAMS(ARG("FILE")),
	    "load a RAM stream from FILE: all or nothing"),
	CMD("map-picture", msc_do_map_picture,
	    PARAMS(ARG("FILE", .layout = MSC_L_OPTIONAL), AS_OPTION, FLAG("html")),
	    "draw the address spaces' memory map as SVG (or HTML) into FILE or the output"),
	CMD("iommu-map", msc_do_iommu_range,
	    PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("ADDR"), ARG("SIZE"),
		   VALUE("perm", "ro|wo|rw", MSC_V_KEYWORD, .names = msc_perm_names), INDEX_OPTION),
	    "map IOVA..+SIZE to ADDR of the target (replacing what was there) and notify",
	    .arg = MSC_IOMMU_MAP),
	CMD("iommu-unmap", msc_do_iommu_range,
	    PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("SIZE"), INDEX_OPTION),
	    "unmap IOVA..+SIZE and notify", .arg = MSC_IOMMU_UNMAP),
	CMD("iommu-invalidate", msc_do_iommu_range,
	    PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("SIZE"), INDEX_OPTION),
	    "send a device-IOTLB invalidation (DEVIOTLB_UNMAP); the table does not change",
	    .arg = MSC_IOMMU_INVALIDATE),
	CMD("notifier", msc_do_notifier,
	    PARAMS(ARG("NAME"), ARG("IOMMU"), VALUE("start", "A", MSC_V_NUMBER, .what = "start"),
		   VALUE("end", "B", MSC_V_NUMBER, .what = "end"),
		   VALUE("flags", "map,unmap,deviotlb", MSC_V_KEYWORDS,
			 .names = notifier_flag_names),
		   INDEX_OPTION, VALUE("fail", "on", MSC_V_BOOL)),
	    "register an IOMMU notifier that prints its events (fail=on: it refuses them)"),
	CMD("notifier-free", msc_do_notifier_free, PARAMS(ARG("NAME"), FLAG("unmap")),
	    "unregister a notifier (unmap: first tell it its whole range is unmapped)"),
	CMD("replay", msc_do_replay, PARAMS(ARG("NOTIFIER")),
	    "announce the IOMMU's current mappings to a notifier"),
	CMD("iotlb", msc_do_iotlb, PARAMS(ARG("ADDR"), FLAG("write"), ATTRS, AS_OPTION),
	    "the translation an access would use, through every IOMMU"),
	CMD("tce-table", msc_do_tce_table,
	    PARAMS(ARG("NAME"), ARG("TARGET"), INCLUDE(place_params)),
	    "an sPAPR TCE table translating into TARGET; its root is the region NAME"),
	CMD("tce-window", msc_do_tce_window,
	    PARAMS(ARG("TABLE"), ARG("BUS_OFFSET"), ARG("SIZE"),
		   VALUE("page", "4K|64K|2M|16M", MSC_V_NUMBER, .what = "page size")),
	    "create a DMA window (default or DDW); prints its number"),
	CMD("tce-window-remove", msc_do_tce_window_remove, PARAMS(ARG("TABLE"), ARG("WINDOW")),
	    "remove a window (every entry is cleared first)"),
	CMD("tce-info", msc_do_tce_info, PARAMS(ARG("TABLE")),
	    "print a table's windows and their present entries"),
	CMD("tce-put", msc_do_tce_put,
	    PARAMS(ARG("TABLE"), ARG("IOBA"), ARG("ADDR"), TCE_PERM_OPTION),
	    "H_PUT_TCE: map the page at IOBA to ADDR (perm=none clears it)"),
	CMD("tce-stuff", msc_do_tce_stuff,
	    PARAMS(ARG("TABLE"), ARG("IOBA"), ARG("ADDR"), ARG("NPAGES"), TCE_PERM_OPTION),
	    "H_STUFF_TCE: set NPAGES entries from IOBA to the same TCE"),
	CMD("tce-put-indirect", msc_do_tce_put_indirect,
	    PARAMS(ARG("TABLE"), ARG("IOBA"), ARG("LIST"), ARG("NPAGES")),
	    "H_PUT_TCE_INDIRECT: set NPAGES entries from big-endian TCEs at LIST"),
	CMD("tce-get", msc_do_tce_get, PARAMS(ARG("TABLE"), ARG("IOBA")),
	    "H_GET_TCE: print the entry of the page at IOBA"),
	CMD("vtd", msc_do_vtd,
	    PARAMS(ARG("NAME"), ARG("MEMORY"), ARG("POOL"), ARG("POOL_SIZE"),
		   VALUE("cm", "on|off", MSC_V_BOOL), VALUE("devtlb", "on|off", MSC_V_BOOL)),
	    "a VT-d-like unit reading tables from MEMORY, written in the pool"),
	CMD("vtd-device", msc_do_vtd_device,
	    PARAMS(ARG("NAME"), ARG("UNIT"), ARG("BDF"), ARG("DOMAIN"),
		   VALUE("aw", "39|48", MSC_V_NUMBER, .what = "address width")),
	    "a requester of UNIT in DOMAIN: address space and IOMMU region NAME"),
	CMD("vtd-map", msc_do_vtd_map,
	    PARAMS(ARG("DEVICE"), ARG("IOVA"), ARG("ADDR"), ARG("SIZE"), TCE_PERM_OPTION,
		   VALUE("page", "4K|2M|1G", MSC_V_NUMBER, .what = "page size")),
	    "write page-table entries of DEVICE's domain mapping IOVA to ADDR"),
	CMD("vtd-unmap", msc_do_vtd_unmap, PARAMS(ARG("DEVICE"), ARG("IOVA"), ARG("SIZE")),
	    "clear the page-table entries of DEVICE's domain that meet the range"),
	CMD("vtd-dmar", msc_do_vtd_dmar, PARAMS(ARG("DEVICE"), ARG("on|off")),
	    "switch DEVICE between remapping and pass-through (one transaction)"),
	CMD("vtd-invalidate", msc_do_vtd_invalidate,
	    PARAMS(ARG("UNIT"), VALUE("domain", "DID", MSC_V_NUMBER, .what = "domain"),
		   VALUE("addr", "ADDR", MSC_V_NUMBER, .what = "address"),
		   VALUE("am", "N", MSC_V_NUMBER, .what = "address mask")),
	    "global, domain (domain=) or page (domain= addr= am=) invalidation"),
	CMD("vtd-faults", msc_do_vtd_faults, PARAMS(ARG("UNIT")),
	    "print and clear the unit's fault records"),
	CMD("vtd-info", msc_do_vtd_info, PARAMS(ARG("UNIT")),
	    "print a unit's root table, pool use and devices"),
	CMD("vfio-container", msc_do_vfio_container, PARAMS(ARG("NAME")),
	    "create a VFIO-like container (a shadow of a group's IOMMU mappings)"),
	CMD("vfio-container-free", msc_do_vfio_container_free, PARAMS(ARG("NAME")),
	    "detach the group, unpin everything and destroy the container"),
	CMD("vfio-attach", msc_do_vfio_attach, PARAMS(ARG("CONTAINER"), ARG("GROUP")),
	    "attach a device's DMA address space: shadow and pin its IOMMU mappings"),
	CMD("vfio-detach", msc_do_vfio_detach, PARAMS(ARG("CONTAINER"), ARG("GROUP")),
	    "detach the group: unpin every page"),
	CMD("vfio-info", msc_do_vfio_info, PARAMS(ARG("CONTAINER")),
	    "print the group, windows, page sizes and pins of a container"),
	CMD("vfio-read", msc_do_vfio_rw, PARAMS(ARG("CONTAINER"), ARG("IOVA"), ARG("LEN")),
	    "device DMA read through the container's shadow only", .arg = false),
	CMD("vfio-write", msc_do_vfio_rw,
	    PARAMS(ARG("CONTAINER"), ARG("IOVA"), ARG("DATA", .layout = MSC_L_REPEAT)),
	    "device DMA write through the container's shadow only", .arg = true),
	CMD("vfio-check", msc_do_vfio_check, PARAMS(ARG("CONTAINER")),
	    "check that the shadow equals a fresh replay of the IOMMUs"),
	CMD("vfio-user", msc_do_vfio_user,
	    PARAMS(ARG("NAME"), ARG("SOCKET"), INCLUDE(place_params), AS_OPTION,
		   VALUE("iommu", "IOMMU|AS", MSC_V_TEXT),
		   VALUE("index", "N", MSC_V_NUMBER, .what = "IOMMU index", .layout = MSC_L_JOIN),
		   VALUE("timeout", "MS", MSC_V_NUMBER, .what = "timeout")),
	    "connect a vfio-user server; its BARs become region NAME"),
	CMD("vfio-user-info", msc_do_vfio_user_info, PARAMS(ARG("NAME")),
	    "print a vfio-user device's BARs, DMA and interrupt counts"),
	CMD("vfio-user-irq", msc_do_vfio_user_irq,
	    PARAMS(ARG("NAME"), ARG("intx|msi|msix"), ARG("on|off|mask|unmask"),
		   ARG("VECTOR", .layout = MSC_L_OPTIONAL)),
	    "route a vfio-user device's interrupts to counters, stop, mask or unmask them"),
	CMD("vfio-user-wait-irq", msc_do_vfio_user_wait_irq,
	    PARAMS(ARG("NAME"), ARG("intx|msi|msix"), ARG("VECTOR"),
		   VALUE("timeout", "MS", MSC_V_NUMBER, .what = "timeout")),
	    "wait for the next interrupt of a vector (default 1000 ms) and print it"),
	CMD("vfio-user-reset", msc_do_vfio_user_reset, PARAMS(ARG("NAME")),
	    "reset a vfio-user device (DEVICE_RESET)"),
	CMD("vfio-user-close", msc_do_vfio_user_close, PARAMS(ARG("NAME")),
	    "disconnect a vfio-user device and take its BARs out of the machine"),
	CMD("mpc", msc_do_mpc,
	    PARAMS(ARG("NAME"), ARG("DOWNSTREAM"), ARG("BLOCK"), FLAG("raz"),
		   INCLUDE(place_params)),
	    "a TZ-MPC-like filter in front of DOWNSTREAM; its IOMMU region is NAME"),
	CMD("mpc-lut-set", msc_do_mpc_lut_set,
	    PARAMS(ARG("MPC"), ARG("secure|nonsecure"), ARG("FIRST"),
		   ARG("COUNT", .layout = MSC_L_OPTIONAL)),
	    "give blocks FIRST..+COUNT to a world (notifies each change)"),
	CMD("mpc-lut-get", msc_do_mpc_lut_get,
	    PARAMS(ARG("MPC"), ARG("FIRST"), ARG("COUNT", .layout = MSC_L_OPTIONAL)),
	    "print the world of blocks FIRST..+COUNT: S or N each"),
	CMD("mpc-info", msc_do_mpc_info, PARAMS(ARG("MPC"), FLAG("clear")),
	    "print an MPC's blocked-access counts and pending fault (clear: clear it)"),
	CMD("devtlb", msc_do_devtlb,
	    PARAMS(ARG("NAME"), ARG("AS"), VALUE("entries", "N", MSC_V_NUMBER, .what = "entries"),
		   ATTRS),
	    "a vhost-like device IOTLB for DMA in AS"),
	CMD("devtlb-read", msc_do_devtlb_rw, PARAMS(ARG("DEVTLB"), ARG("ADDR"), ARG("LEN")),
	    "device DMA read through the device IOTLB", .arg = false),
	CMD("devtlb-write", msc_do_devtlb_rw,
	    PARAMS(ARG("DEVTLB"), ARG("ADDR"), ARG("DATA", .layout = MSC_L_REPEAT)),
	    "device DMA write through the device IOTLB", .arg = true),
	CMD("devtlb-flush", msc_do_devtlb_flush, PARAMS(ARG("DEVTLB")),
	    "drop every translation a device IOTLB caches"),
	CMD("devtlb-info", msc_do_devtlb_info, PARAMS(ARG("DEVTLB")),
	    "print a device IOTLB's hits, misses and invalidations"),
	CMD("share", msc_do_share, PARAMS(ARG("NAME"), ARG("REGION"), INCLUDE(place_params)),
	    "send REGION over a socket and make what is received RAM NAME (same pages)"),
	CMD("remap", msc_do_remap,
	    PARAMS(ARG("NAME"), ARG("ADDR"), ARG("LEN"), ARG("ADDR", .layout = MSC_L_OPTIONAL),
		   ARG("LEN", .layout = MSC_L_OPTIONAL | MSC_L_JOIN | MSC_L_REPEAT), AS_OPTION),
	    "map guest RAM ranges side by side into one host range"),
	CMD("remap-read", msc_do_remap_read, PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("LEN")),
	    "print bytes of a remapped host range"),
	CMD("remap-write", msc_do_remap_write,
	    PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("DATA", .layout = MSC_L_REPEAT)),
	    "store bytes through a remapped host range (marked dirty)"),
	CMD("remap-free", msc_do_remap_free, PARAMS(ARG("NAME")), "unmap a remapped host range"),
	CMD("cache", msc_do_cache,
	    PARAMS(ARG("NAME"), ARG("ADDR"), ARG("LEN"), FLAG("write"), AS_OPTION),
	    "set up a region cache over ADDR..+LEN"),
	CMD("cache-read", msc_do_cache_read, PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("LEN")),
	    "read bytes through a cache"),
	CMD("cache-write", msc_do_cache_write,
	    PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("DATA", .layout = MSC_L_REPEAT)),
	    "write bytes through a cache"),
	CMD("cache-ldb", msc_do_cache_ld, PARAMS(ARG("NAME"), ARG("OFFSET")),
	    "load a byte through a cache", .arg = 1),
	CMD("cache-ldw", msc_do_cache_ld, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	    "load 2 bytes through a cache", .arg = 2),
	CMD("cache-ldl", msc_do_cache_ld, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	    "load 4 bytes through a cache", .arg = 4),
	CMD("cache-ldq", msc_do_cache_ld, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	    "load 8 bytes through a cache", .arg = 8),
	CMD("cache-stb", msc_do_cache_st, PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE")),
	    "store a byte through a cache", .arg = 1),
	CMD("cache-stw", msc_do_cache_st,
	    PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	    "store 2 bytes through a cache", .arg = 2),
	CMD("cache-stl", msc_do_cache_st,
	    PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	    "store 4 bytes through a cache", .arg = 4),
	CMD("cache-stq", msc_do_cache_st,
	    PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	    "store 8 bytes through a cache", .arg = 8),
	CMD("cache-invalidate", msc_do_cache_invalidate, PARAMS(ARG("NAME")),
	    "forget the cache's translation (the next access translates again)"),
	CMD("cache-free", msc_do_cache_free, PARAMS(ARG("NAME")), "destroy a cache"),
	CMD("mtree", msc_do_mtree,
	    PARAMS(FLAG("-f"), FLAG("-D"), FLAG("-o"), FLAG("--json"), FLAG("-d")),
	    "print the tree (or with -f the flat views, -d the lookup views) like QEMU's info mtree"),
	CMD("echo", msc_do_echo, PARAMS(ARG("TEXT", .layout = MSC_L_OPTIONAL | MSC_L_REPEAT)),
	    "print TEXT", .flags = MSC_CMD_RAW),
	CMD("heading", msc_do_heading, PARAMS(ARG("TEXT", .layout = MSC_L_OPTIONAL | MSC_L_REPEAT)),
	    "print == TEXT ==", .flags = MSC_CMD_RAW),
	CMD("help", msc_do_help, PARAMS(ARG("COMMAND", .layout = MSC_L_OPTIONAL)),
	    "list commands, or show one command's usage"),
	CMD("quit", msc_do_quit, NO_PARAMS,
	    "stop reading commands; the exit status is 1 if any command failed, else 0"),
	CMD("exit", msc_do_quit, NO_PARAMS, "same as quit"),
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Append @text to the usage being built in @buf (@size bytes, @used so far). */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
	size_t n = strlen(text);

	if (*used + n >= size)
		n = *used < size - 1 ? size - 1 - *used : 0;
	memcpy(buf + *used, text, n);
	*used += n;
	buf[*used] = '\0';
}

/*
 * Append the parameters of @list: each in brackets when it may be left out,
 * laid out as its P_* flags say. *@depth counts the brackets left open:
 * those of the last top-level parameter and of one nested in it.
 */
static void append_params(char *buf, size_t size, size_t *used, const msc_param *list,
			  unsigned *depth)
{
	for (; list->kind != MSC_P_END; list++) {
		bool optional = list->kind == MSC_P_FLAG || list->kind == MSC_P_VALUE ||
				(list->layout & MSC_L_OPTIONAL);

		if (list->kind == MSC_P_INCLUDE) {
			append_params(buf, size, used, list->group, depth);
			continue;
		}
		if (list->layout & MSC_L_ALT) {
			append(buf, size, used, "|");
		} else if (list->layout & MSC_L_JOIN) {
			append(buf, size, used, " ");
		} else {
			unsigned keep = list->layout & MSC_L_NEST ? 1 : 0;

			for (; *depth > keep; (*depth)--)
				append(buf, size, used, "]");
			append(buf, size, used, " ");
			if (optional) {
				append(buf, size, used, "[");
				(*depth)++;
			}
		}
		append(buf, size, used, list->name);
		if (list->kind == MSC_P_VALUE) {
			append(buf, size, used, "=");
			append(buf, size, used, list->meta);
		}
		if (list->layout & MSC_L_REPEAT)
			append(buf, size, used, "...");
	}
}

/* The usage line of @cmd ("read ADDR LEN [ATTRS] [as=AS]") in @buf. */
const char *msc_usage(char *buf, size_t size, const msc_command *cmd)
{
	size_t used = 0;
	unsigned depth = 0;

	buf[0] = '\0';
	append(buf, size, &used, cmd->name);
	append_params(buf, size, &used, cmd->params, &depth);
	for (; depth; depth--)
		append(buf, size, &used, "]");
	return buf;
}

/* How many positional arguments @cmd takes: at least *@min, at most *@max (MSC_ANY). */
void msc_arg_counts(const msc_command *cmd, unsigned *min, unsigned *max)
{
	*min = *max = 0;
	for (const msc_param *p = cmd->params; p->kind != MSC_P_END; p++) {
		if (p->kind != MSC_P_ARG)
			continue;
		if (!(p->layout & MSC_L_OPTIONAL))
			(*min)++;
		*max = p->layout & MSC_L_REPEAT ? MSC_ANY : *max + 1;
	}
}

/* The @index-th option of @list, counting from *@index down; NULL past the last. */
static const msc_param *nth_option(const msc_param *list, size_t *index)
{
	for (; list->kind != MSC_P_END; list++) {
		if (list->kind == MSC_P_GROUP || list->kind == MSC_P_INCLUDE) {
			const msc_param *p = nth_option(list->group, index);

			if (p)
				return p;
		} else if (list->kind != MSC_P_ARG && (*index)-- == 0) {
			return list;
		}
	}
	return NULL;
}

const msc_command *msc_find_command(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (strlen(commands[i].name) == len && memcmp(commands[i].name, name, len) == 0)
			return &commands[i];
	return NULL;
}

const char *msc_suggest_command(const char *text, size_t len)
{
	msc_suggestion sg = MSC_SUGGESTION_INIT;

	for (size_t i = 0; i < NR_COMMANDS; i++)
		msc_suggest(&sg, text, len, commands[i].name, strlen(commands[i].name));
	return sg.best;
}

const char *const *msc_command_names(void)
{
	static const char *names[NR_COMMANDS + 1];

	if (!names[0])
		for (size_t i = 0; i < NR_COMMANDS; i++)
			names[i] = commands[i].name;
	return names;
}

bool msc_command_option(const char *name, size_t index, const char **key, bool *takes_value)
{
	const msc_command *cmd = msc_find_command(name, strlen(name));
	const msc_param *p = cmd ? nth_option(cmd->params, &index) : NULL;

	if (!p)
		return false;
	*key = p->name;
	*takes_value = p->kind == MSC_P_VALUE;
	return true;
}

/* The options of @list as the help shows them: " secure ... pasid=N". */
static void print_options(FILE *out, const msc_param *list)
{
	for (; list->kind != MSC_P_END; list++) {
		fprintf(out, " %s", list->name);
		if (list->kind == MSC_P_VALUE)
			fprintf(out, "=%s", list->meta);
	}
}

int msc_print_help(FILE *out, const char *topic)
{
	const msc_command *cmd;
	char usage[256];

	if (!topic) {
		int width = 0;

		for (size_t i = 0; i < NR_COMMANDS; i++)
			if ((int)strlen(commands[i].name) > width)
				width = (int)strlen(commands[i].name);
		fputs("Commands (help COMMAND for its usage; docs/script.md has the details):\n",
		      out);
		for (size_t i = 0; i < NR_COMMANDS; i++)
			fprintf(out, "  %-*s %s\n", width, commands[i].name, commands[i].help);
		fputs("Numbers: 4096, 0x1000, 0b101, 64K, 4G, 2^64. ATTRS:", out);
		print_options(out, msc_attr_params);
		fputs(".\nModels: regs, const value=N, error, dma as=AS; options endian= "
		      "valid=MIN-MAX impl=MIN-MAX unaligned secure-only log=on|off.\n",
		      out);
		return 0;
	}
	cmd = msc_find_command(topic, strlen(topic));
	if (!cmd)
		return -ENOENT;
	fprintf(out, "usage: %s\n  %s\n", msc_usage(usage, sizeof(usage), cmd), cmd->help);
	return 0;
}
