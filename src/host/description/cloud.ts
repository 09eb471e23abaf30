/**
 * Cloud platform detection for the host spec: `meta.cloud` and `customIdentifier`
 * (docs/upstream.md, "Cloud detection").
 *
 * The work lives in `cloud/`: `detect.ts` (platform choice and the race of probes), one module per
 * provider (`ec2.ts`, `gce.ts`, `azure.ts`) and `http.ts` (proxy-free requests, deadline, retry).
 *
 * @module
 */
export {
  type CloudDetection,
  type CloudEndpoints,
  detectCloud,
  type DetectCloudOptions,
} from "./cloud/detect.ts";
export { EC2_BASE_URL, isEC2UUID, looksLikeEC2 } from "./cloud/ec2.ts";
export { GCE_BASE_URL, parseGceMetadata } from "./cloud/gce.ts";
export { AZURE_BASE_URL } from "./cloud/azure.ts";
