/**
 * Per-node and per-process CPU and memory of a benchmark's topology (bench/topology.ts), between the start and the end
 * of the load: every node's process tree (its main process and any worker processes it forked), redis-server and the
 * balancer, each apart, so the cost of each piece of a scaled-out deployment can be read off one run.
 */
import { basename } from 'node:path';
import { sampleTree } from './proc-stats.js';
import type { Topology } from './topology.js';

type TreeSample = ReturnType<typeof sampleTree>;
interface Snapshot { nodes: TreeSample[]; redis: TreeSample | null; balancer: TreeSample | null }

export function snapshot(t: Topology): Snapshot {
  return {
    nodes: t.nodes.map((n) => sampleTree(n.proc.pgid)),
    redis: t.redis ? sampleTree(t.redis.proc.pgid) : null,
    balancer: t.balancer ? sampleTree(t.balancer.proc.pgid) : null,
  };
}

const r1 = (x: number) => Number(x.toFixed(1));

/** CPU percent (of one core) of each process between two samples; a process born during the run counts from zero. */
function treeFigures(before: TreeSample, after: TreeSample, wallS: number) {
  const processes = [...after.entries()].map(([pid, a]) => ({
    // server: a Node process (the node's main process or one of its server processes); helper: anything else in
    // the tree, e.g. the esbuild service tsx starts beside each Node process.
    pid, role: basename(a.cmd.split(' ')[0] ?? '') === basename(process.execPath) ? 'server' : 'helper', cmd: a.cmd, cpuPercent: r1(((a.cpuS - (before.get(pid)?.cpuS ?? 0)) / wallS) * 100), rssMb: r1(a.rssMb), peakRssMb: r1(a.hwmMb),
  }));
  return {
    cpuPercent: r1(processes.reduce((s, p) => s + p.cpuPercent, 0)),
    // Sum of each process's own peak: an upper bound of the tree's peak (the peaks need not coincide).
    peakRssMb: r1(processes.reduce((s, p) => s + p.peakRssMb, 0)),
    rssAtEndMb: r1(processes.reduce((s, p) => s + p.rssMb, 0)),
    processes,
  };
}

/**
 * The topology part of a run's report. `serverCpuPercent` is what the emostream nodes used (all processes of all
 * nodes); `clusterCpuPercent` adds redis-server; `withBalancerCpuPercent` adds HAProxy too. Per session: divided by
 * the session count (percent of one core per session).
 */
export function topologyReport(t: Topology, before: Snapshot, after: Snapshot, wallS: number, sessions: number) {
  const perNode = t.nodes.map((n, k) => ({ nodeId: n.nodeId, port: n.port, ...treeFigures(before.nodes[k], after.nodes[k], wallS) }));
  const redis = before.redis && after.redis ? treeFigures(before.redis, after.redis, wallS) : null;
  const balancer = before.balancer && after.balancer ? treeFigures(before.balancer, after.balancer, wallS) : null;
  const serverCpuPercent = perNode.reduce((s, n) => s + n.cpuPercent, 0);
  const clusterCpuPercent = serverCpuPercent + (redis?.cpuPercent ?? 0);
  const withBalancerCpuPercent = clusterCpuPercent + (balancer?.cpuPercent ?? 0);
  const per = (x: number) => Number((x / sessions).toFixed(3));
  return {
    topology: { ...t.describe(), processesSeen: perNode.map((n) => n.processes.filter((p) => p.role === 'server').length) },
    perNode,
    redis,
    balancer,
    serverCpuPercent: r1(serverCpuPercent),
    clusterCpuPercent: r1(clusterCpuPercent),
    withBalancerCpuPercent: r1(withBalancerCpuPercent),
    cpuPercentPerSession: { server: per(serverCpuPercent), cluster: per(clusterCpuPercent), withBalancer: per(withBalancerCpuPercent) },
  };
}

/** Cumulative histogram buckets summed over several nodes' /metrics (parseHistogram's shape). */
export function sumHistograms(parts: Record<string, Record<string, number>>[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const h of parts) {
    for (const [key, buckets] of Object.entries(h)) {
      const o = (out[key] ??= {});
      for (const [le, n] of Object.entries(buckets)) o[le] = (o[le] ?? 0) + n;
    }
  }
  return out;
}
