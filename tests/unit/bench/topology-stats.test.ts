import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processTree, sampleTree } from '../../../bench/proc-stats.js';
import { groupMembers, spawnManaged, stopManaged, waitReady } from '../../../bench/procs.js';
import { sumHistograms, topologyReport } from '../../../bench/topology-stats.js';
import type { Topology } from '../../../bench/topology.js';

test('processTree finds a process and every descendant; sampleTree reads their CPU, memory and command', async () => {
  const m = spawnManaged('tree', 'sh', ['-c', 'sleep 300 & (sleep 301 & wait) & wait']);
  try {
    await waitReady(m, 'its descendants', async () => groupMembers(m.pgid).length >= 4, 10_000, 20);
    const tree = processTree(m.pgid);
    assert.equal(tree[0], m.pgid);
    assert.ok(tree.length >= 4, `tree ${tree.join(',')}`);
    const sample = sampleTree(m.pgid);
    assert.ok([...sample.values()].some((p) => p.cmd.startsWith('sleep 301')));
    for (const p of sample.values()) assert.ok(p.rssMb > 0 && p.cpuS >= 0);
  } finally {
    await stopManaged(m, 1000);
  }
});

test('sumHistograms adds each bucket over the nodes', () => {
  assert.deepEqual(sumHistograms([{ speech: { 1: 2, 2: 5, '+Inf': 5 } }, { speech: { 1: 1, 2: 1, '+Inf': 3 }, face: { 1: 4 } }]),
    { speech: { 1: 3, 2: 6, '+Inf': 8 }, face: { 1: 4 } });
});

test('topologyReport: per-process CPU between samples, helpers apart, redis and the balancer added in their own totals', () => {
  const node = (pid: number, cmd: string, cpuS: number, hwmMb: number) => [pid, { cpuS, rssMb: hwmMb - 10, hwmMb, cmd }] as const;
  const t = { nodes: [{ nodeId: 'node1', port: 1 }, { nodeId: 'node2', port: 2 }], describe: () => ({ nodes: 2 }) } as unknown as Topology;
  const before = {
    nodes: [new Map([node(10, `${process.execPath} bin/emostream.mjs serve`, 1, 300), node(11, '/x/esbuild --service', 0, 12)]), new Map([node(20, `${process.execPath} bin/emostream.mjs serve`, 2, 310)])],
    redis: new Map([node(30, 'redis-server 127.0.0.1:6379', 0, 10)]),
    balancer: new Map([node(40, 'haproxy -db', 0, 20)]),
  };
  const after = {
    // node1 forked a second server process during the run: it counts from zero.
    nodes: [new Map([node(10, `${process.execPath} bin/emostream.mjs serve`, 6, 320), node(11, '/x/esbuild --service', 0, 12), node(12, `${process.execPath} node-process.ts`, 2, 250)]),
      new Map([node(20, `${process.execPath} bin/emostream.mjs serve`, 7, 330)])],
    redis: new Map([node(30, 'redis-server 127.0.0.1:6379', 0.1, 10)]),
    balancer: new Map([node(40, 'haproxy -db', 0.5, 20)]),
  };
  const r = topologyReport(t, before, after, 10, 20);
  assert.deepEqual(r.perNode.map((n) => n.cpuPercent), [70, 50]);
  assert.deepEqual(r.topology.processesSeen, [2, 1]);
  assert.equal(r.perNode[0].processes.find((p) => p.pid === 11)?.role, 'helper');
  assert.equal(r.perNode[0].peakRssMb, 320 + 12 + 250);
  assert.equal(r.serverCpuPercent, 120);
  assert.equal(r.clusterCpuPercent, 121);
  assert.equal(r.withBalancerCpuPercent, 126);
  assert.deepEqual(r.cpuPercentPerSession, { server: 6, cluster: 6.05, withBalancer: 6.3 });
});
