# The syscall probes and the stack profiler (eBPF, libbpf CO-RE) or their
# stubs; included by the top Makefile before LIB_SRCS is finalised.  Sets
# PROBE_SRCS, PROBE_LIBS and CPPFLAGS, and the rules of the pipeline,
# libbpf-bootstrap's:
#
#   /sys/kernel/btf/vmlinux --bpftool btf dump--> $(BUILD)/probes/vmlinux.h
#   syscalls.bpf.c --clang -target bpf--> $(BUILD)/probes/syscalls.bpf.o
#   --bpftool gen skeleton--> $(BUILD)/probes/syscalls.skel.h --> probes.c
#   (profile.bpf.c likewise --> profile.skel.h --> profile.c)
#   <asm/unistd_64.h> --gen_syscalls.sh--> $(BUILD)/probes/syscall_names.h
#
#   make          the probes when bpftool, clang, libbpf, libdw and the
#                 kernel's BTF are there; otherwise probes_none.c,
#                 profile_none.c, common/symbolize_none.c and a one-line
#                 notice
#   make BPF=0    the stubs (every probe call answers -ENOTSUP)
#   make BPF=1    the probes, or stop and say what is missing
#
# The profiler's symbols come from elfutils' libdw (libdw-dev), the library
# perf itself uses to read ELF symbol tables and DWARF from /proc/PID/maps.
#
# Generated files live in $(BUILD)/probes only.

BPF         ?= auto
BPF_CLANG   ?= clang
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ifeq ($(origin BPFTOOL),undefined)
BPFTOOL     := $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool))
endif
BPF_ARCH    := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
PROBES_DIR  := $(BUILD)/probes

probes_none :=
probes_missing :=
ifneq ($(BPF),0)
probes_missing := $(strip \
	$(if $(shell command -v $(BPFTOOL) 2>/dev/null),,bpftool) \
	$(if $(shell command -v $(BPF_CLANG) 2>/dev/null),,clang) \
	$(if $(wildcard /usr/include/bpf/libbpf.h),,libbpf-dev) \
	$(if $(wildcard /usr/include/elfutils/libdwfl.h),,libdw-dev) \
	$(if $(wildcard $(VMLINUX_BTF)),,kernel-BTF:$(VMLINUX_BTF)))
ifneq ($(probes_missing),)
ifeq ($(BPF),1)
$(error BPF=1: cannot build the syscall probes, missing: $(probes_missing) (packaging/deps.sh installs the tools))
endif
$(info $(probes_none)  NOTE    syscall probes left out (missing: $(probes_missing)); building the stub daemon/probes/probes_none.c: packaging/deps.sh installs the tools, BPF=0 silences this)
endif
endif

ifneq ($(filter 0,$(BPF))$(probes_missing),)
PROBE_SRCS := daemon/probes/probes_none.c daemon/probes/profile_none.c \
              common/symbolize_none.c
else
PROBE_SRCS := daemon/probes/probes.c daemon/probes/profile.c \
              daemon/probes/bpfmap.c common/symbolize.c
PROBE_LIBS := -ldw -lbpf -lelf -lz
CPPFLAGS   += -I$(PROBES_DIR)
# These rules come before the Makefile's own: keep its default goal.
probes_goal := $(.DEFAULT_GOAL)

# Order-only: sysfs stamps the file with the time its inode was made.
$(PROBES_DIR)/vmlinux.h: | $(VMLINUX_BTF)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@

$(PROBES_DIR)/syscalls.bpf.o: daemon/probes/syscalls.bpf.c \
		daemon/probes/syscalls_bpf.h $(PROBES_DIR)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(BPF_CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I$(PROBES_DIR) -c $< -o $@

$(PROBES_DIR)/profile.bpf.o: daemon/probes/profile.bpf.c \
		daemon/probes/profile_bpf.h $(PROBES_DIR)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(BPF_CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I$(PROBES_DIR) -c $< -o $@

$(PROBES_DIR)/%.skel.h: $(PROBES_DIR)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf >$@

$(PROBES_DIR)/syscall_names.h: daemon/probes/gen_syscalls.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh $< "$(CC)" >$@

# The loader includes both generated headers: build them first (the .d
# files know them only after a first compile).
$(BUILD)/obj/daemon/probes/probes.o $(BUILD)/asan/daemon/probes/probes.o: \
		$(PROBES_DIR)/syscalls.skel.h $(PROBES_DIR)/syscall_names.h
$(BUILD)/obj/daemon/probes/profile.o $(BUILD)/asan/daemon/probes/profile.o: \
		$(PROBES_DIR)/profile.skel.h
.DEFAULT_GOAL := $(probes_goal)
endif
