/**
 * The macOS commands the agent runs, by absolute path: launchd gives a daemon a minimal `PATH`,
 * and a path is what `--allow-run` and the start-up probe check.
 *
 * @module
 */

/** `df -Pkl`: the filesystems, for the filesystem metrics and the host's filesystems. */
export const DF = "/bin/df";
/** `netstat -bni`: the interfaces' byte counters. */
export const NETSTAT = "/usr/sbin/netstat";
/** `sysctl`: the CPU, the CPU count and the memory size of the host description. */
export const SYSCTL = "/usr/sbin/sysctl";
/** `uname -a`: the kernel of the host description. */
export const UNAME = "/usr/bin/uname";
/** `sw_vers`: the macOS product name and version. */
export const SW_VERS = "/usr/bin/sw_vers";
/** `ifconfig -a`: the interfaces and their addresses. */
export const IFCONFIG = "/sbin/ifconfig";
