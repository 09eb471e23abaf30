/**
 * Upstream's default config, state and pidfile paths per operating system (docs/upstream.md,
 * "Default paths").
 *
 * @module
 */

/** The default config, state and pidfile paths of an operating system. */
export interface PlatformPaths {
  readonly conffile: string;
  readonly root: string;
  readonly pidfile: string;
}

/** Upstream's default paths for `os`: /etc and /var on Unix, ~/Library on macOS, beside the exe on Windows. */
export function platformPaths(
  os: typeof Deno.build.os = Deno.build.os,
  home?: string,
  execPath?: string,
): PlatformPaths {
  // HOME and the executable are looked up only where they matter, so Linux needs no permission.
  if (os === "darwin") {
    const dir = `${home ?? Deno.env.get("HOME") ?? ""}/Library/mackerel-agent`;
    return { conffile: `${dir}/mackerel-agent.conf`, root: dir, pidfile: `${dir}/pid` };
  }
  if (os === "windows") {
    const dir = (execPath ?? Deno.execPath()).replace(/[\\/][^\\/]*$/, "");
    return {
      conffile: `${dir}\\mackerel-agent.conf`,
      root: dir,
      pidfile: `${dir}\\mackerel-agent.pid`,
    };
  }
  return {
    conffile: "/etc/mackerel-agent/mackerel-agent.conf",
    root: "/var/lib/mackerel-agent",
    pidfile: "/var/run/mackerel-agent.pid",
  };
}

const paths = platformPaths();
/** The default config path on this operating system (`/etc/mackerel-agent/mackerel-agent.conf` on Linux). */
export const DEFAULT_CONFFILE: string = paths.conffile;
/** The default state directory on this operating system (`/var/lib/mackerel-agent` on Linux). */
export const DEFAULT_ROOT: string = paths.root;
/** The default pidfile on this operating system (`/var/run/mackerel-agent.pid` on Linux). */
export const DEFAULT_PIDFILE: string = paths.pidfile;
