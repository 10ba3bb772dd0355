/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_DAEMON_H
#define XDPSLIRP_DAEMON_H

int daemon_main(int argc, char **argv);

#endif
