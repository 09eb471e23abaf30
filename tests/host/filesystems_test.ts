import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  answersFromMemory,
  type FilesystemUsage,
  listFilesystems,
  parseMounts,
} from "../../src/host/filesystems.ts";
import { createSource } from "../../src/host/source.ts";
import { StatfsUnavailable } from "../../src/platform/linux/statfs.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";
import { block4k, fakeStatfs, X86_STATFS, x86DeviceOf as deviceOf } from "../support/x86_statfs.ts";

const X86 = fileURLToPath(new URL("../fixtures/procfs/x86/", import.meta.url));

const usage = (
  name: string,
  mount: string,
  type: string,
  [kbSize, kbUsed, kbAvailable, percentUsed]: readonly number[],
): FilesystemUsage => ({ name, mount, type, kbSize, kbUsed, kbAvailable, percentUsed });

/** Runs `run` with a temp procfs root holding `files` (path → text). */
const withProcfs = (files: Record<string, string>, run: (dir: string) => Promise<void>) =>
  withTempDir("filesystems_test_", async (dir) => {
    await writeFiles(dir, files);
    await run(dir);
  });

Deno.test("filesystems: parseMounts decodes octal escapes and skips short lines", () => {
  const text = "/dev/sda2 /var/lib/my\\040data\\011x xfs rw,relatime 0 0\n" +
    "garbage\n\n" +
    "tmpfs /back\\134slash tmpfs rw\n";
  assert.deepEqual(parseMounts(text), [
    { device: "/dev/sda2", mount: "/var/lib/my data\tx", type: "xfs", options: "rw,relatime" },
    { device: "tmpfs", mount: "/back\\slash", type: "tmpfs", options: "rw" },
  ]);
});

Deno.test("filesystems: lists local filesystems like df -Pkl after upstream's drop rules", async () => {
  const { statfs, calls } = fakeStatfs(X86_STATFS);
  const list = await listFilesystems({ source: createSource({ procfs: X86 }), statfs, deviceOf });
  assert.deepEqual(list, [
    usage("udev", "/dev", "devtmpfs", [4030000, 0, 4030000, 0]),
    usage("tmpfs", "/run", "tmpfs", [812344, 1000, 811344, 1]),
    usage("/dev/sda1", "/", "ext4", [20000000, 14000000, 5000000, 74]),
    usage("tmpfs", "/dev/shm", "tmpfs", [65536, 1536, 64000, 3]),
    usage("/dev/sda2", "/var/lib/my data", "xfs", [1000001, 500000, 500001, 50]),
    usage("/dev/nvme0n1", "/srv", "ext4", [4000, 2000, 1800, 53]),
    usage("/dev/mapper/vg-root", "/data", "ext4", [800, 200, 600, 25]),
    usage("/dev/dm-4", "/backup", "ext4", [1200, 1200, 0, 100]),
    usage("/dev/loop0", "/snap/core/123", "squashfs", [200, 200, 0, 100]),
  ]);
  // Remote (nfs4, cifs, sshfs, ceph) and dummy (sysfs, proc, devpts, autofs) mounts are never
  // touched: statfs could hang on the former and would trigger a mount on autofs.
  for (const path of ["/sys", "/proc", "/dev/pts", "/proc/sys/fs/binfmt_misc", "/mnt/nfs"]) {
    assert.ok(!calls.includes(path), path);
  }
  for (const path of ["/mnt/smb", "/mnt/ssh", "/mnt/ceph"]) assert.ok(!calls.includes(path), path);
  // /dev/shm, mounted over, is measured once and listed where it was first mounted.
  assert.equal(calls.filter((path) => path === "/dev/shm").length, 1);
});

Deno.test("filesystems: kernel filesystems without blocks are not asked; st_dev only for the shown", async () => {
  const { statfs, calls } = fakeStatfs(X86_STATFS);
  const devs: string[] = [];
  const list = await listFilesystems({
    source: createSource({ procfs: X86 }),
    statfs,
    deviceOf: (path) => {
      devs.push(path);
      return deviceOf(path);
    },
  });
  // securityfs and cgroup2 always answer 0 blocks (simple_statfs): df would only hide them.
  for (const path of ["/sys/kernel/security", "/sys/fs/cgroup"]) {
    assert.ok(!calls.includes(path), path);
  }
  // st_dev folds bind mounts: read for what statfs showed (docker's thin devices are dropped only
  // afterwards), not for /mnt/stuck, which failed.
  assert.deepEqual(devs.toSorted(), [
    "/",
    "/backup",
    "/data",
    "/dev",
    "/dev/shm",
    "/run",
    "/snap/core/123",
    "/srv",
    "/var/lib/docker/containers",
    "/var/lib/docker/devicemapper/mnt/0123",
    "/var/lib/my data",
  ]);
  assert.ok(calls.includes("/mnt/stuck"));
  assert.equal(list.length, 9);
});

Deno.test("filesystems: a statfs that never answers is skipped once with one warning", async () => {
  await withLogs(async (lines) => {
    const { statfs, calls } = fakeStatfs(X86_STATFS, ["/mnt/stuck"]);
    const options = { source: createSource({ procfs: X86 }), statfs, deviceOf, timeoutMs: 50 };
    const first = await listFilesystems(options);
    assert.equal(first.length, 9);
    assert.ok(!first.some((fs) => fs.mount === "/mnt/stuck"));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      / WARNING <util\.filesystem> statfs of \/mnt\/stuck \(\/dev\/sdb1, ext4\) did not answer within 50 ms; skipped until it does$/,
    );

    // The hung call cannot be cancelled, so the next listing does not ask again (nor warn again).
    const second = await listFilesystems(options);
    assert.deepEqual(second, first);
    assert.equal(calls.filter((path) => path === "/mnt/stuck").length, 1);
    assert.equal(lines.length, 1);
  }, { level: "info", timestamps: true });
});

Deno.test("filesystems: mounts are asked one at a time, and all at once after one hangs", async () => {
  await withLogs(async (lines) => {
    // /dev comes first in the table: once it has missed its deadline the rest must not queue
    // behind it one deadline each.
    const { statfs: inner, calls } = fakeStatfs(X86_STATFS, ["/dev"]);
    // How many answering calls run at once (the hung one never ends, so it is not counted).
    let running = 0;
    const widths: number[] = [];
    const statfs = async (path: string) => {
      if (path === "/dev") return await inner(path);
      widths.push(++running);
      try {
        return await inner(path);
      } finally {
        running--;
      }
    };
    const options = { source: createSource({ procfs: X86 }), statfs, deviceOf, timeoutMs: 50 };
    const first = await listFilesystems(options);
    assert.equal(calls[0], "/dev");
    assert.ok(Math.max(...widths) > 1, "the mounts after the hung one are asked together");
    assert.equal(first.length, 8);
    assert.equal(lines.length, 1);

    // /dev still hangs and is skipped: nobody waits for anybody now.
    widths.length = 0;
    const second = await listFilesystems(options);
    assert.deepEqual(second, first);
    assert.deepEqual(widths, widths.map(() => 1));
    assert.ok(widths.length >= 8);
  }, { level: "info", timestamps: true });
});

Deno.test("filesystems: bind mounts of one device fold into the mount nearest the root", async () => {
  const mounts = "overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0\n" +
    "/dev/vda1 /etc/resolv.conf ext4 rw,relatime 0 0\n" +
    "/dev/vda1 /etc/hostname ext4 rw,relatime 0 0\n" +
    "/dev/vda1 /etc/hosts ext4 rw,relatime 0 0\n" +
    "/dev/sda2 /srv btrfs rw,subvol=/@srv 0 0\n" +
    "/dev/sda2 /home btrfs rw,subvol=/@home 0 0\n";
  const vda1 = block4k(1000, 600, 500);
  const { statfs } = fakeStatfs({
    "/": vda1,
    "/etc/resolv.conf": vda1,
    "/etc/hostname": vda1,
    "/etc/hosts": vda1,
    "/srv": block4k(100, 50, 50),
    "/home": block4k(100, 50, 50),
  });
  // Docker's bind-mounted files share one st_dev; btrfs subvolumes each have their own.
  const devs: Record<string, number> = { "/": 1, "/srv": 3, "/home": 4 };
  const dev = (path: string) => Promise.resolve(devs[path] ?? 2);
  await withProcfs({ mounts }, async (dir) => {
    const list = await listFilesystems({
      source: createSource({ procfs: dir }),
      statfs,
      deviceOf: dev,
    });
    assert.deepEqual(list.map((fs) => [fs.name, fs.mount]), [
      ["overlay", "/"],
      ["/dev/vda1", "/etc/hosts"],
      ["/dev/sda2", "/srv"],
      ["/dev/sda2", "/home"],
    ]);
  });
});

Deno.test("filesystems: st_dev is asked again only when the mount table changes", async () => {
  const { statfs } = fakeStatfs({ "/": block4k(10, 5, 5), "/srv": block4k(20, 10, 10) });
  const asked: string[] = [];
  const counting = (path: string) => {
    asked.push(path);
    return deviceOf(path);
  };
  await withProcfs({ mounts: "/dev/vda / ext4 rw 0 0\n" }, async (dir) => {
    const options = { source: createSource({ procfs: dir }), statfs, deviceOf: counting };
    await listFilesystems(options);
    await listFilesystems(options);
    assert.deepEqual(asked, ["/"]);
    await Deno.writeTextFile(
      join(dir, "mounts"),
      "/dev/vda / ext4 rw 0 0\n/dev/vdb /srv ext4 rw 0 0\n",
    );
    const list = await listFilesystems(options);
    assert.deepEqual(asked, ["/", "/", "/srv"]);
    assert.deepEqual(list.map((fs) => fs.mount), ["/", "/srv"]);
  });
});

Deno.test("filesystems: falls back to self/mounts, and names the file when neither is readable", async () => {
  const { statfs } = fakeStatfs({ "/": block4k(10, 5, 5) });
  await withProcfs({ "self/mounts": "/dev/vda / ext4 rw 0 0\n" }, async (dir) => {
    const list = await listFilesystems({ source: createSource({ procfs: dir }), statfs, deviceOf });
    assert.deepEqual(list, [usage("/dev/vda", "/", "ext4", [40, 20, 20, 50])]);
  });
  await withProcfs({ "stat": "" }, async (dir) => {
    await assert.rejects(
      listFilesystems({ source: createSource({ procfs: dir }), statfs, deviceOf }),
      { message: `cannot read ${join(dir, "mounts")}: no such file` },
    );
  });
});

Deno.test("filesystems: the live root filesystem matches df -Pk /", async () => {
  const df = await new Deno.Command("df", { args: ["-Pk", "/"], env: { LC_ALL: "C" } }).output();
  assert.equal(df.code, 0, new TextDecoder().decode(df.stderr));
  const line = new TextDecoder().decode(df.stdout).trim().split("\n")[1];
  const match = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/.exec(line);
  assert.ok(match, line);
  const [, name, size, used, available, percent, mount] = match;
  assert.equal(mount, "/");

  const root = (await listFilesystems({ source: createSource() })).find((fs) => fs.mount === "/");
  assert.ok(root, "no entry for /");
  assert.equal(root.name, name);
  // Other processes write to the disk between the two looks: allow 256 MiB of drift.
  const tolerance = 256 * 1024;
  assert.ok(Math.abs(root.kbSize - Number(size)) <= tolerance, `size ${root.kbSize} vs ${size}`);
  assert.ok(Math.abs(root.kbUsed - Number(used)) <= tolerance, `used ${root.kbUsed} vs ${used}`);
  assert.ok(
    Math.abs(root.kbAvailable - Number(available)) <= tolerance,
    `available ${root.kbAvailable} vs ${available}`,
  );
  assert.ok(Math.abs(root.percentUsed - Number(percent)) <= 1, `${root.percentUsed} vs ${percent}`);
});

Deno.test("filesystems: from outside (-rootfs), pid 1's table names host paths measured under the rootfs", async () => {
  const { statfs, calls } = fakeStatfs({
    "/rootfs/": block4k(1000, 600, 500),
    "/rootfs/data": block4k(100, 50, 50),
  });
  const devs: Record<string, number> = { "/rootfs/": 1, "/rootfs/data": 2 };
  const dev = (path: string) => Promise.resolve(devs[path] ?? 9);
  await withProcfs({
    // The host's init: the host's own paths.
    "1/mounts": "/dev/vda1 / ext4 rw 0 0\n/dev/vdb /data xfs rw 0 0\nproc /proc proc rw 0 0\n",
    // Our own table, the container's: never used while pid 1's can be read.
    "mounts": "overlay / overlay rw 0 0\n/dev/vda1 /rootfs ext4 ro 0 0\n",
  }, async (dir) => {
    const source = createSource({ procfs: dir, rootfs: "/rootfs/" });
    const list = await listFilesystems({ source, statfs, deviceOf: dev });
    assert.deepEqual(list, [
      usage("/dev/vda1", "/", "ext4", [4000, 1600, 2000, 45]),
      usage("/dev/vdb", "/data", "xfs", [400, 200, 200, 50]),
    ]);
    assert.deepEqual(calls.sort(), ["/rootfs/", "/rootfs/data"]);
  });
});

Deno.test("filesystems: from outside, a table that sees the host under the rootfs keeps only that part", async () => {
  const { statfs, calls } = fakeStatfs({
    "/host/root": block4k(1000, 600, 500),
    "/host/root/boot": block4k(100, 50, 50),
  });
  const devs: Record<string, number> = { "/host/root": 1, "/host/root/boot": 2 };
  const dev = (path: string) => Promise.resolve(devs[path] ?? 9);
  // pid 1 hidden (hidepid) and our own table: the container's root, its files, the host's tree.
  const mounts = "overlay / overlay rw 0 0\n" +
    "/dev/vda1 /etc/hostname ext4 rw 0 0\n" +
    "/dev/vda1 /host/root ext4 ro 0 0\n" +
    "/dev/vda15 /host/root/boot vfat ro 0 0\n" +
    "proc /host/root/proc proc rw 0 0\n" +
    "proc /host/proc proc ro 0 0\n";
  await withProcfs({ mounts }, async (dir) => {
    const source = createSource({ procfs: dir, rootfs: "/host/root" });
    const list = await listFilesystems({ source, statfs, deviceOf: dev });
    assert.deepEqual(list, [
      usage("/dev/vda1", "/", "ext4", [4000, 1600, 2000, 45]),
      usage("/dev/vda15", "/boot", "vfat", [400, 200, 200, 50]),
    ]);
    assert.deepEqual(calls.sort(), ["/host/root", "/host/root/boot"]);
  });
});

Deno.test("filesystems: without -rootfs only our own table is read", async () => {
  const { statfs } = fakeStatfs({ "/": block4k(10, 5, 5), "/other": block4k(10, 5, 5) });
  await withProcfs({
    "1/mounts": "/dev/vdb /other ext4 rw 0 0\n",
    "mounts": "/dev/vda / ext4 rw 0 0\n",
  }, async (dir) => {
    const list = await listFilesystems({ source: createSource({ procfs: dir }), statfs, deviceOf });
    assert.deepEqual(list.map((fs) => fs.mount), ["/"]);
  });
});

Deno.test("filesystems: only a statfs answered from memory is asked on the agent's thread", () => {
  const table = parseMounts(
    "/dev/vda1 / ext4 rw 0 0\n" +
      "tmpfs /run tmpfs rw 0 0\n" +
      "srv:/export /mnt/nfs nfs4 rw 0 0\n" +
      "/dev/vdb /mnt/nfs/local xfs rw 0 0\n" +
      "sshfs#me@h: /mnt/ssh fuse.sshfs rw 0 0\n" +
      "tmpfs /mnt/ssh/cache tmpfs rw 0 0\n" +
      "/dev/vdc /quota xfs rw,prjquota 0 0\n" +
      "/dev/vdd /zfs zfs rw 0 0\n" +
      "overlay /merged overlay rw,lowerdir=/l1:/l2,upperdir=/srv/up,workdir=/srv/w 0 0\n" +
      "overlay /ro overlay rw,lowerdir=/mnt/nfs/base 0 0\n" +
      "overlay /rel overlay rw,upperdir=up 0 0\n" +
      "systemd-1 /auto autofs rw 0 0\n" +
      "/dev/vde /auto/inner ext4 rw 0 0\n",
  );
  const trusted = answersFromMemory(table);
  const verdict = Object.fromEntries(table.map((m) => [m.mount, trusted(m)]));
  assert.deepEqual(verdict, {
    "/": true,
    "/run": true,
    // A remote filesystem, and local ones whose path crosses a remote, FUSE or automount point.
    "/mnt/nfs": false,
    "/mnt/nfs/local": false,
    "/mnt/ssh": false,
    "/mnt/ssh/cache": false,
    "/auto": false,
    "/auto/inner": false,
    // A project quota is read from disk; zfs is not known to answer from memory.
    "/quota": false,
    "/zfs": false,
    // An overlay answers for its upper (else first lower) directory's filesystem.
    "/merged": true,
    "/ro": false,
    "/rel": false,
  });
});

Deno.test("filesystems: trusted mounts are asked synchronously, the others under a deadline", async () => {
  const { statfs, calls: later } = fakeStatfs(X86_STATFS, ["/mnt/stuck"]);
  const now: string[] = [];
  const statfsSync = (path: string) => {
    now.push(path);
    const answer = X86_STATFS[path];
    if (!answer) throw new Error(`ENOENT: ${path}`);
    return answer;
  };
  const mounts = "/dev/sda1 / ext4 rw 0 0\n" +
    "srv:/e /mnt/nfs nfs4 rw 0 0\n" +
    "/dev/sdb1 /mnt/stuck zfs rw 0 0\n" +
    "/dev/nvme0n1 /srv ext4 rw 0 0\n" +
    "/dev/mapper/vg-root /data ext4 rw,prjquota 0 0\n";
  await withLogs(async (lines) => {
    await withProcfs({ mounts }, async (dir) => {
      const options = {
        source: createSource({ procfs: dir }),
        statfs,
        statfsSync,
        deviceOf,
        timeoutMs: 50,
      };
      const list = await listFilesystems(options);
      // In the table's order whichever way each was asked; the hung zfs mount costs one deadline.
      assert.deepEqual(list.map((fs) => fs.mount), ["/", "/srv", "/data"]);
      assert.deepEqual(now, ["/", "/srv"]);
      assert.deepEqual(later, ["/mnt/stuck", "/data"]);
      assert.equal(lines.length, 1);
      assert.match(lines[0], /statfs of \/mnt\/stuck \(\/dev\/sdb1, zfs\) did not answer/);
    });
  }, { level: "info", timestamps: true });
});

Deno.test("filesystems: from outside (-rootfs) no mount is asked synchronously", async () => {
  const { statfs, calls } = fakeStatfs({ "/rootfs/": block4k(10, 5, 5) });
  await withProcfs({ "1/mounts": "/dev/vda / ext4 rw 0 0\n", "mounts": "" }, async (dir) => {
    const statfsSync = () => {
      throw new Error("asked synchronously from outside");
    };
    const source = createSource({ procfs: dir, rootfs: "/rootfs/" });
    const dev = () => Promise.resolve(1);
    const list = await listFilesystems({ source, statfs, statfsSync, deviceOf: dev });
    assert.deepEqual(list.map((fs) => fs.mount), ["/"]);
    assert.deepEqual(calls, ["/rootfs/"]);
  });
});

Deno.test("filesystems: statfs that cannot be called at all is one warning for the agent's life", async () => {
  const unavailable = () => {
    throw new StatfsUnavailable(new Deno.errors.NotCapable("Requires ffi access"));
  };
  await withLogs(async (lines) => {
    await withProcfs(
      { mounts: "/dev/vda / ext4 rw 0 0\n/dev/vdb /srv zfs rw 0 0\n" },
      async (dir) => {
        const options = {
          source: createSource({ procfs: dir }),
          statfs: () => Promise.reject(new StatfsUnavailable(new Error("no libc.so.6"))),
          statfsSync: unavailable,
          deviceOf,
        };
        assert.deepEqual(await listFilesystems(options), []);
        assert.deepEqual(await listFilesystems(options), []);
      },
    );
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      / WARNING <util\.filesystem> cannot call statfs through libc\.so\.6: it needs --allow-ffi \(or -A\); filesystems are not measured$/,
    );
  }, { level: "info", timestamps: true });
});
