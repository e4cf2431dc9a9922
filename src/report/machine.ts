/** Machine description printed with every report (latency numbers mean nothing without it). */
import { cpus, totalmem, platform, release, arch } from 'node:os';
import type { MachineInfo } from './schema.js';

export function machineInfo(now = new Date()): MachineInfo {
  const c = cpus();
  return {
    cpu: (c[0]?.model ?? 'unknown CPU').trim(),
    cores: c.length,
    memGB: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()} ${release()} ${arch()}`,
    node: process.versions.node,
    date: now.toISOString(),
  };
}
