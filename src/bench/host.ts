/** Describes the machine a benchmark ran on (CPU model from /proc/cpuinfo, cores, Node). */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface HostInfo {
  cpu: string;
  cores: number;
  memGb: number;
  node: string;
  platform: string;
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux: fall back to os.cpus() */
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function hostInfo(): HostInfo {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
