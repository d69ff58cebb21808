/**
 * `acereason bench transport`: the wire format and the JetStream path of the loop.
 *  - msgpack (ours) vs JSON encode+decode of a TrajectoryGroup (G=16, 4,096 tokens each);
 *  - JetStream publish -> consume -> ack of such groups through a real nats-server on loopback,
 *    next to plain core-NATS publish/subscribe of the same payloads.
 * MSGPACKR_NATIVE_ACCELERATION_DISABLED=true measures msgpack without its native addon.
 */
import { performance } from 'node:perf_hooks';
import { MIN_ROUNDS, alternate, benchHost, codecs, exampleGroup, msgpackNativeCodec, summarize, Streams, Subjects, Consumers, type BenchOptions, type BenchReport, type TrajectoryGroup } from '@acereason/protocol';
import { connectNats, drainQuietly } from './nats/connection.js';
import { ensureTopology } from './nats/topology.js';
import { jetstreamClient } from './nats/publish.js';
import { consume } from './nats/consumer.js';
import { startNatsServer } from './local/nats-server.js';

function toJson(g: TrajectoryGroup): string {
  return JSON.stringify({ ...g, promptTokens: Array.from(g.promptTokens), responses: g.responses.map((r) => ({ ...r, tokens: Array.from(r.tokens), logprobs: Array.from(r.logprobs) })) });
}

interface JsonResponse { tokens: number[]; logprobs: number[] }
function fromJson(s: string): TrajectoryGroup {
  const o = JSON.parse(s) as TrajectoryGroup & { promptTokens: number[]; responses: JsonResponse[] };
  return { ...o, promptTokens: Uint32Array.from(o.promptTokens), responses: o.responses.map((r) => ({ ...(r as unknown as TrajectoryGroup['responses'][number]), tokens: Uint32Array.from(r.tokens), logprobs: Float32Array.from(r.logprobs) })) };
}

function timeNs(fn: () => void, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

/** Per round: median encode+decode ns of `reps` runs of one format. */
function codecRound(reps: number, fmt: 'msgpack' | 'json'): number {
  const g = exampleGroup({ groupSize: 16, tokensPerResponse: 4096 });
  let sink = 0;
  const run = fmt === 'msgpack'
    ? () => { sink += codecs.TrajectoryGroup.decode(codecs.TrajectoryGroup.encode(g)).responses.length; }
    : () => { sink += fromJson(toJson(g)).responses.length; };
  timeNs(run, 2);
  const t = summarize(timeNs(run, reps)).median;
  if (sink < 0) throw new Error('unreachable');
  return t;
}

async function codecFigures(rounds: number, reps: number) {
  const g = exampleGroup({ groupSize: 16, tokensPerResponse: 4096 });
  const paired = await alternate({
    rounds,
    better: { encode_decode_ns: 'lower' },
    ours: async () => ({ encode_decode_ns: codecRound(reps, 'msgpack') }),
    baseline: async () => ({ encode_decode_ns: codecRound(reps, 'json') }),
  });
  const f = paired.figures.encode_decode_ns;
  return {
    group: { responses: 16, tokens_per_response: 4096, msgpack_bytes: codecs.TrajectoryGroup.encode(g).byteLength, json_bytes: Buffer.byteLength(toJson(g)) },
    /** Whether msgpackr decoded with its native addon (msgpackr-extract) in this run. */
    native_acceleration: msgpackNativeCodec(),
    rounds: paired.rounds,
    msgpack_encode_decode_ns: f.ours,
    json_encode_decode_ns: f.baseline,
    ratio: f.ratio,
  };
}

interface StreamRound { groups_per_s: number; mb_per_s: number; latencies: number[] }

async function streamFigures(rounds: number, n: number) {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'bench' });
  const core = await connectNats({ servers: server.url, name: 'bench-core' });
  try {
    await ensureTopology(nc);
    const js = jetstreamClient(nc);
    const payloads = Array.from({ length: n }, (_, i) => codecs.TrajectoryGroup.encode(exampleGroup({ id: `b${i}`, groupSize: 16, tokensPerResponse: 4096 })));
    const bytes = payloads[0]?.byteLength ?? 0;
    const result = (seconds: number, latencies: number[]): StreamRound => ({ groups_per_s: n / seconds, mb_per_s: (n * bytes) / seconds / 1e6, latencies });

    // JetStream: publish with ack (durable), consume through the leased consumer, ack each.
    // Every round has its own subject, durable and msg-ids (the stream dedups msg-ids).
    const jetstream = async (round: number): Promise<StreamRound> => {
      const run = `bench${round}`;
      const subject = Subjects.trajectory(run, 'math');
      const sentAt = new Map<string, number>();
      const consumer = await consume(nc, { stream: Streams.TRAJECTORIES, durable: Consumers.verifiers(run, 'math'), filterSubject: subject, codec: codecs.TrajectoryGroup, maxInFlight: 32 });
      const lat: number[] = [];
      const t0 = performance.now();
      const consumed = (async () => {
        let count = 0;
        for await (const d of consumer) {
          lat.push(performance.now() - (sentAt.get(d.value.id) ?? t0));
          await d.ack();
          if (++count === n) break;
        }
      })();
      for (let i = 0; i < n; i++) {
        sentAt.set(`b${i}`, performance.now());
        await js.publish(subject, payloads[i] as Uint8Array, { msgID: `${run}-b${i}` });
      }
      await consumed;
      return result((performance.now() - t0) / 1000, lat);
    };

    // Core NATS: the same payloads, fire-and-forget publish, plain subscription, decode each.
    const coreNats = async (round: number): Promise<StreamRound> => {
      const subject = `bench.core.${round}`;
      const lat: number[] = [];
      const sent = new Map<string, number>();
      const sub = core.subscribe(subject);
      const t1 = performance.now();
      const received = (async () => {
        let count = 0;
        for await (const m of sub) {
          const g = codecs.TrajectoryGroup.decode(m.data);
          lat.push(performance.now() - (sent.get(g.id) ?? t1));
          if (++count === n) break;
        }
      })();
      await core.flush();
      for (let i = 0; i < n; i++) {
        sent.set(`b${i}`, performance.now());
        nc.publish(subject, payloads[i] as Uint8Array);
        if (i % 8 === 7) await nc.flush();
      }
      await nc.flush();
      await received;
      return result((performance.now() - t1) / 1000, lat);
    };

    const jsLat: number[] = [];
    const coreLat: number[] = [];
    const paired = await alternate({
      rounds,
      better: { groups_per_s: 'higher' },
      ours: async (r) => { const x = await jetstream(r); jsLat.push(...x.latencies); return { groups_per_s: x.groups_per_s }; },
      baseline: async (r) => { const x = await coreNats(r); coreLat.push(...x.latencies); return { groups_per_s: x.groups_per_s }; },
    });
    const f = paired.figures.groups_per_s;
    const mb = (s: { min: number; median: number; max: number }) => ({ min: (s.min * bytes) / 1e6, median: (s.median * bytes) / 1e6, max: (s.max * bytes) / 1e6 });
    const jsL = summarize(jsLat);
    const coreL = summarize(coreLat);
    return {
      groups_per_round: n,
      rounds: paired.rounds,
      group_bytes: bytes,
      jetstream: { groups_per_s: f.ours, mb_per_s: mb(f.ours), latency_ms: { p50: jsL.median, p99: jsL.p99 } },
      core_nats: { groups_per_s: f.baseline, mb_per_s: mb(f.baseline), latency_ms: { p50: coreL.median, p99: coreL.p99 } },
      ratio: f.ratio,
    };
  } finally {
    await drainQuietly(core);
    await drainQuietly(nc);
  }
}

/**
 * Each pair of sides alternates (ours, baseline, ...) for MIN_ROUNDS rounds; figures are
 * min / median / max per side, ratios the median of the per-round ratios (range in `ratio`).
 */
export async function benchTransport(opts: BenchOptions = {}): Promise<BenchReport> {
  const quick = opts.quick === true;
  const codec = await codecFigures(MIN_ROUNDS, quick ? 3 : 12);
  const streams = await streamFigures(MIN_ROUNDS, quick ? 8 : 60);
  return {
    suite: 'transport',
    host: benchHost(),
    codec,
    streams,
    ratios: {
      // JSON time / msgpack time: how many times faster our wire format is.
      msgpack_vs_json: codec.ratio.median,
      // Durable, acked JetStream delivery vs fire-and-forget core NATS (the price of never losing data).
      jetstream_vs_core_nats_throughput: streams.ratio.median,
    },
  };
}
