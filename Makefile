# xdpslirp - build, tests, demo.
#
#   make            build build/xdpslirp (XDP program embedded as a skeleton)
#   make check      install what is missing, then unit tests (plain and under
#                   ASan+UBSan), a fuzz smoke run and the end-to-end tests
#                   (some again against the engine built with sanitizers)
#   make asan       the engine with ASan+UBSan and with TSan (build/xdpslirp-asan,
#                   build/xdpslirp-tsan)
#   make demo       install what is missing, build, show a guest using it
#   make fuzz       run each fuzzer for FUZZ_EXECS runs or FUZZ_SECONDS, print a table
#   make soak       30 minutes (SOAK_SECONDS) of mixed traffic with faults: memory,
#                   descriptors and flows must stay flat
#   make check-full make check, with every end-to-end suite against each sanitized build
#   make bench      xdpslirp vs pasta, slirp4netns and kernel routing (iperf3)
#   make bench-guests  1, 10 and 50 guests at once egressing to a remote
#                   namespace: xdpslirp, pasta, slirp4netns, bridge + NAT
#   make deps       install build and test dependencies (Debian, as root)
#   make install    install xdpslirp and its slirp4netns name (PREFIX=/usr/local),
#                   and the CNI plugin as $(CNI_DIR)/xdpslirp (CNI_DIR=/usr/lib/cni)

BUILD		:= build
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
PKGS		:= libxdp libbpf libmnl jansson libseccomp libcap-ng
ARCH_INC	:= /usr/include/$(shell gcc -dumpmachine)

WARN		:= -Wall -Wextra -Werror
CFLAGS		?= -O2 -g
# user/ is grouped by layer (see README, "Where things are"); headers are
# included by name from every folder
LAYERS		:= port net flow svc host ctl sys cni
CPPFLAGS	:= -Iinclude -Iuser $(addprefix -Iuser/,$(LAYERS)) -I$(BUILD) -D_GNU_SOURCE
XCFLAGS		:= -std=gnu11 $(WARN) $(CFLAGS)
LDLIBS		:= $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lxdp -lbpf -lmnl -ljansson -lseccomp -lcap-ng) -lpthread
SAN		:= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The protocol code: unit tests and the fuzzer link it alone, with a stub
# for host sockets (tests/unit/hostsock_stub.c) so they never touch the network.
PROTO_SRCS	:= user/counters.c user/log.c $(wildcard user/net/*.c user/flow/*.c user/svc/*.c) \
		   user/port/frame.c user/port/umem.c user/port/port.c user/port/capture.c user/port/vnet.c user/ctl/config.c user/ctl/addrplan.c user/ctl/slirp4netns.c user/ctl/fwd.c \
		   user/host/sock.c user/host/hostaddr.c
TEST_SRCS	:= $(PROTO_SRCS) tests/unit/hostsock_stub.c tests/unit/hostsock_nodgram.c
SYS_SRCS	:= user/host/hostsock.c user/ctl/control.c user/ctl/rules.c user/ctl/ctl.c user/ctl/apiclient.c user/engine.c user/engine_guest.c user/engine_cmd.c user/engine_switch.c user/guest_setup.c \
		   $(wildcard user/sys/*.c) user/port/xdp.c user/port/xdp_policy.c user/port/xsk.c user/port/tap.c user/port/stream.c \
		   user/port/bufpool.c
MAIN_SRC	:= user/main.c user/daemon.c user/daemon_guest.c user/gateway_setup.c
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_TESTS	:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ASAN_TESTS	:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/%)
HEADERS		:= $(wildcard user/*.h user/*/*.h include/*.h)

.PHONY: all deps check check-full fuzz soak demo bench bench-guests install clean asan
all: $(BUILD)/xdpslirp $(BUILD)/slirp4netns $(BUILD)/xdpslirp-cni

deps:
	@scripts/install-deps.sh

# --- XDP program and skeleton ---
$(BUILD)/xdpslirp.bpf.o: bpf/xdpslirp.bpf.c include/xdp_shared.h | $(BUILD)
	$(CLANG) -O2 -g -target bpf $(WARN) -Iinclude -I$(ARCH_INC) -c $< -o $@

$(BUILD)/xdpslirp.skel.h: $(BUILD)/xdpslirp.bpf.o
	$(BPFTOOL) gen skeleton $< name xdpslirp_bpf > $@.tmp && mv $@.tmp $@

# --- engine ---
$(BUILD)/%.o: user/%.c $(HEADERS) $(BUILD)/xdpslirp.skel.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) -c $< -o $@

$(BUILD)/xdpslirp: $(patsubst user/%.c,$(BUILD)/%.o,$(PROTO_SRCS) $(SYS_SRCS) $(MAIN_SRC))
	$(CC) $(XCFLAGS) $^ -o $@ $(LDLIBS)

# --- the engine itself under sanitizers (make asan): ASan+UBSan, and TSan for
# the multi-worker paths; check.sh runs end-to-end suites against both ---
ENGINE_SRCS	:= $(PROTO_SRCS) $(SYS_SRCS) $(MAIN_SRC)
TSAN		:= -fsanitize=thread -fno-omit-frame-pointer
$(BUILD)/asan-engine/%.o: user/%.c $(HEADERS) $(BUILD)/xdpslirp.skel.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(SAN) -c $< -o $@

$(BUILD)/tsan-engine/%.o: user/%.c $(HEADERS) $(BUILD)/xdpslirp.skel.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(TSAN) -c $< -o $@

$(BUILD)/xdpslirp-asan: $(patsubst user/%.c,$(BUILD)/asan-engine/%.o,$(ENGINE_SRCS))
	$(CC) $(XCFLAGS) $(SAN) $^ -o $@ $(LDLIBS)

$(BUILD)/xdpslirp-tsan: $(patsubst user/%.c,$(BUILD)/tsan-engine/%.o,$(ENGINE_SRCS))
	$(CC) $(XCFLAGS) $(TSAN) $^ -o $@ $(LDLIBS)

asan: $(BUILD)/xdpslirp-asan $(BUILD)/xdpslirp-tsan $(BUILD)/xdpslirp-cni-asan

# the CNI plugin: a small program of its own, the daemon's client
CNI_SRCS	:= $(wildcard user/cni/*.c) user/ctl/apiclient.c
$(BUILD)/xdpslirp-cni: $(patsubst user/%.c,$(BUILD)/%.o,$(CNI_SRCS))
	$(CC) $(XCFLAGS) $^ -o $@ -ljansson

$(BUILD)/xdpslirp-cni-asan: $(patsubst user/%.c,$(BUILD)/asan-engine/%.o,$(CNI_SRCS))
	$(CC) $(XCFLAGS) $(SAN) $^ -o $@ -ljansson

# invoked under this name, the binary is a drop-in slirp4netns (user/ctl/slirp4netns.c)
$(BUILD)/slirp4netns: $(BUILD)/xdpslirp
	ln -sf xdpslirp $@

PREFIX		?= /usr/local
# where CNI runtimes look for plugins on Debian; the type is "xdpslirp"
CNI_DIR		?= /usr/lib/cni
install: $(BUILD)/xdpslirp $(BUILD)/xdpslirp-cni
	install -D -m 0755 $(BUILD)/xdpslirp $(DESTDIR)$(PREFIX)/bin/xdpslirp
	ln -sf xdpslirp $(DESTDIR)$(PREFIX)/bin/slirp4netns
	install -D -m 0755 $(BUILD)/xdpslirp-cni $(DESTDIR)$(CNI_DIR)/xdpslirp

# --- unit tests (cmocka), plain and sanitized ---
# The code under test is compiled once per flavour and linked into each test.
TEST_OBJS	:= $(TEST_SRCS:%.c=$(BUILD)/unit-objs/%.o)
ASAN_OBJS	:= $(TEST_SRCS:%.c=$(BUILD)/asan-objs/%.o)

$(BUILD)/unit-objs/%.o: %.c $(HEADERS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -c $< -o $@

$(BUILD)/asan-objs/%.o: %.c $(HEADERS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) $(SAN) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(TEST_OBJS) $(HEADERS) tests/unit/frames.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) $< $(filter %.o,$^) -o $@ -lcmocka $(TEST_LIBS)

$(BUILD)/asan/%: tests/unit/%.c $(ASAN_OBJS) $(HEADERS) tests/unit/frames.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) $(SAN) $< $(filter %.o,$^) -o $@ -lcmocka $(TEST_LIBS)

# the control API's test links control.c and rules.c, the engine stubbed
CONTROL_TEST_SRCS := user/ctl/control.c user/ctl/rules.c tests/unit/control_stub.c
$(BUILD)/tests/test_control: $(CONTROL_TEST_SRCS:%.c=$(BUILD)/unit-objs/%.o)
$(BUILD)/asan/test_control: $(CONTROL_TEST_SRCS:%.c=$(BUILD)/asan-objs/%.o)
$(BUILD)/tests/test_control $(BUILD)/asan/test_control: TEST_LIBS := -ljansson -lcap-ng

# --- the XDP program's verdicts against the engine's (BPF_PROG_TEST_RUN, root) ---
BPF_TEST_SRCS	:= user/port/xdp.c user/port/xdp_policy.c user/flow/policy.c user/net/inany.c user/log.c
BPF_TESTS	:= $(BUILD)/bpf-tests/test_xdp_policy
$(BUILD)/bpf-tests/%: tests/bpf/%.c $(BPF_TEST_SRCS) $(HEADERS) $(BUILD)/xdpslirp.skel.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $< $(BPF_TEST_SRCS) -o $@ -lcmocka -lbpf

# --- fuzzing (libFuzzer, clang) ---
$(BUILD)/fuzz_frame: tests/fuzz/fuzz_frame.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the same harness, its input framed as an IPv6 payload
$(BUILD)/fuzz_ipv6: tests/fuzz/fuzz_frame.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -DFUZZ_IPV6 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the same harness, its input a UDP payload to the DHCP server, DNS or the host
$(BUILD)/fuzz_udp4: tests/fuzz/fuzz_frame.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -DFUZZ_UDP4 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the same harness, its input an ARP message after an Ethernet header
$(BUILD)/fuzz_arp: tests/fuzz/fuzz_frame.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -DFUZZ_ARP -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the same harness, a virtio-net header (as a guest writes it on a tap) first
$(BUILD)/fuzz_vnet: tests/fuzz/fuzz_frame.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -DFUZZ_VNET -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the command lines (xdpslirp's, slirp4netns's) and the rule and forward syntax
$(BUILD)/fuzz_args: tests/fuzz/fuzz_args.c $(TEST_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(TEST_SRCS) -o $@

# the stream port's framing (the port itself: its pool and log only)
FUZZ_STREAM_SRCS := user/port/stream.c user/port/bufpool.c user/port/port.c user/port/capture.c user/port/frame.c \
		    user/net/csum.c user/port/umem.c user/log.c
$(BUILD)/fuzz_stream: tests/fuzz/fuzz_stream.c $(FUZZ_STREAM_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) $(XCFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(FUZZ_STREAM_SRCS) -o $@

FUZZ_TCP_SRCS	:= tests/fuzz/hostsock_loop.c tests/unit/hostsock_nodgram.c $(PROTO_SRCS)
$(BUILD)/fuzz_tcp: tests/fuzz/fuzz_tcp.c $(FUZZ_TCP_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit -Itests/fuzz $(XCFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(FUZZ_TCP_SRCS) -o $@

# the control API's requests (control.c, rules.c), the engine stubbed
FUZZ_API_SRCS	:= $(CONTROL_TEST_SRCS) $(TEST_SRCS)
$(BUILD)/fuzz_api: tests/fuzz/fuzz_api.c $(FUZZ_API_SRCS) $(HEADERS) | $(BUILD)
	$(CLANG) $(CPPFLAGS) -Itests/unit $(XCFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(FUZZ_API_SRCS) -o $@ -ljansson -lcap-ng

# tests/fuzz/targets lists them, with their seeds and input sizes
FUZZ_TARGETS	:= $(addprefix $(BUILD)/,$(shell awk '!/^\#/ && NF { print $$1 }' tests/fuzz/targets))
fuzz: $(FUZZ_TARGETS)
	@BUILD=$(BUILD) scripts/fuzz.sh

# --- the suites, as make check runs them ---
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(ASAN_TESTS) $(BPF_TESTS) $(FUZZ_TARGETS) \
		$(BUILD)/xdpslirp-asan $(BUILD)/xdpslirp-tsan $(BUILD)/xdpslirp-cni-asan
	@scripts/check.sh

check-full: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(ASAN_TESTS) $(BPF_TESTS) $(FUZZ_TARGETS) \
		$(BUILD)/xdpslirp-asan $(BUILD)/xdpslirp-tsan $(BUILD)/xdpslirp-cni-asan
	@CHECK_FULL=1 scripts/check.sh

soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) /usr/bin/python3 scripts/soak.py

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/install-deps.sh --bench
	@/usr/bin/python3 scripts/bench.py

bench-guests: deps
	@$(MAKE) --no-print-directory all
	@scripts/install-deps.sh --bench
	@/usr/bin/python3 scripts/bench_guests.py

$(BUILD):
	@mkdir -p $@

clean:
	rm -rf $(BUILD)
