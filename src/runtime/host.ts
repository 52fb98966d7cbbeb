/**
 * @module This process and the machine it runs on: CPU time, memory, the machine's description
 * and load. Used by `sluice bench` to meter and label measurements.
 */
import os from "node:os";
import process from "node:process";

/** CPU time (user + system) this process has used so far, in ms. */
export function cpuTimeMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Resident set size now, in bytes. */
export function rssBytes(): number {
  return process.memoryUsage().rss;
}

/** The highest resident set size this process has reached, in bytes. */
export function peakRssBytes(): number {
  const usage = process.resourceUsage?.();
  return usage ? Math.max(usage.maxRSS * 1024, rssBytes()) : rssBytes();
}

/** What the results were measured on. */
export interface MachineInfo {
  readonly host: string;
  readonly os: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMb: number;
  /** 1, 5 and 15 minute load averages. */
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "unknown",
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The 1-minute load average. */
export function loadAverage1m(): number {
  return os.loadavg()[0];
}
