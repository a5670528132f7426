import { cpus } from 'node:os';
import type { ClassMetrics } from './cv-report.js';

/** Fields every CV report shares with the speech report (src/training/speech/report.ts), so tools read them alike. */
export interface CommonReportFields {
  createdAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string };
  clips: number;
  labels: readonly string[];
  confusion: number[][];
  perClass: ClassMetrics['perClass'];
}

export function commonReportFields(metrics: ClassMetrics): CommonReportFields {
  const argv = process.argv.slice(2).join(' ');
  return {
    createdAt: new Date().toISOString(),
    command: `emostream ${argv}`.trim(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    clips: metrics.confusion.flat().reduce((a, b) => a + b, 0),
    labels: metrics.labels,
    confusion: metrics.confusion,
    perClass: metrics.perClass,
  };
}
