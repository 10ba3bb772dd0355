/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CTL_H
#define XDPSLIRP_CTL_H

int ctl_main(int argc, char **argv);

#endif
