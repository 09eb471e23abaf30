/**
 * Shapes of the Mackerel API payloads the agent sends and reads (docs/upstream.md, "Host payload",
 * "Endpoints").
 *
 * @module
 */

/** Part of `meta.kernel`. */
export interface KernelSpec {
  readonly name?: string;
  readonly release?: string;
  readonly version?: string;
  readonly machine?: string;
  readonly os?: string;
  readonly platform_name?: string;
  readonly platform_version?: string;
}

/** One entry of `meta.cpu`; every value is a string, as gopsutil renders it. */
export interface CpuSpec {
  readonly vendor_id?: string;
  readonly model?: string;
  readonly stepping?: string;
  readonly physical_id?: string;
  readonly core_id?: string;
  readonly cache_size?: string;
  readonly model_name?: string;
  readonly family?: string;
  readonly cores?: string;
  readonly mhz?: string;
}

/** One entry of `meta.cpu` on Windows, as upstream sends it: the speed and model are numbers. */
export interface WindowsCpuSpec {
  readonly model_name: string;
  /** `~MHz` of the processor's registry key. */
  readonly mhz: number;
  /** `SYSTEM_INFO.wProcessorArchitecture`. */
  readonly model: number;
  readonly vendor_id: string;
}

/** One entry of `meta.filesystem`, keyed by device name (`C:` on Windows). */
export interface FilesystemSpec {
  readonly kb_size: number;
  readonly kb_used: number;
  readonly kb_available: number;
  readonly percent_used: string;
  readonly mount: string;
  /** Windows: the DOS device (`\Device\HarddiskVolume3`). */
  readonly label?: string;
  /** Windows: the volume's label. */
  readonly volume_name?: string;
  /** Windows: `ntfs`, `refs` ... */
  readonly fs_type?: string;
}

/** `meta.cloud`. */
export interface CloudSpec {
  readonly provider: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The `meta` object of a host. */
export interface HostMeta {
  readonly "agent-revision": string;
  readonly "agent-version": string;
  readonly "agent-name": string;
  /** Linux: sysfs attributes as text; Windows: `size` (a number) and `removable` (a boolean). */
  readonly block_device?: Readonly<
    Record<string, Readonly<Record<string, string | number | boolean>>>
  >;
  readonly cpu?: readonly (CpuSpec | WindowsCpuSpec)[];
  readonly filesystem?: Readonly<Record<string, FilesystemSpec>>;
  readonly kernel?: KernelSpec;
  readonly memory?: Readonly<Record<string, string>>;
  readonly cloud?: CloudSpec;
}

/** One network interface of a host. */
export interface InterfaceSpec {
  readonly name: string;
  readonly ipv4Addresses: readonly string[];
  readonly ipv6Addresses: readonly string[];
  readonly macAddress?: string;
}

/** One check monitor listed in the host payload. */
export interface CheckConfigSpec {
  readonly name: string;
  readonly memo?: string;
}

/** The body of `POST /api/v0/hosts` and `PUT /api/v0/hosts/<id>`, in serialized order. */
export interface HostPayload {
  readonly name: string;
  readonly displayName?: string;
  readonly meta: HostMeta;
  readonly interfaces: readonly InterfaceSpec[] | null;
  readonly roleFullnames: readonly string[];
  readonly checks: readonly CheckConfigSpec[];
  readonly customIdentifier?: string;
}

/** One point of `POST /api/v0/tsdb`. */
export interface MetricPoint {
  readonly hostId: string;
  readonly name: string;
  /** Unix seconds, an integer. */
  readonly time: number;
  readonly value: number;
}
