'use strict';
// ali-ons 3.12 under conformance/run-client: the scenario prints one
// "SCENARIO <name> PASS|FAIL <detail>" line per step; run-client checks them
// and the strict servers' violation list. Name server: $TERN_NAMESRV_ADDR.
//  produce_tags_keys       40 messages, tags TagA/TagB, keys k<i> to $TERN_TOPIC (run-client --topic creates it)
//  consume_clustering      two consumers of one group ('*', clustering) get all 40 between them, tags/keys intact
//  consume_tag_filter      a consumer subscribed to TagA gets the 20 TagA messages and nothing else
//  consume_offset_restart  consumers close (offsets persisted), 10 more are sent, a new instance of the
//                          group gets exactly the 10 new ones (it resumed from the broker's offsets)
const { Producer, Consumer, Message } = require('ali-ons');

const NS = process.env.TERN_NAMESRV_ADDR;
const TOPIC = process.env.TERN_TOPIC || `ConfOns_${process.pid}`;
const N = 40;
const MORE = 10;
const t0 = Date.now();
let failed = 0;
const sleep = ms => new Promise(r => setTimeout(r, ms));
function result(name, ok, detail) {
  if (!ok) failed++;
  console.log(`SCENARIO ${name} ${ok ? 'PASS' : 'FAIL'} ${detail}`);
}
const quiet = { info() {}, debug() {}, warn() {}, error() {} };
const httpclient = { async request() { throw new Error('no onsAddr lookups'); } };
function opts(extra) {
  return Object.assign({
    httpclient, nameSrv: NS, logger: quiet, accessKeyId: '', accessKeySecret: '',
    heartbeatBrokerInterval: 2000, rebalanceInterval: 2000, persistConsumerOffsetInterval: 1000,
    pollNameServerInteval: 1000, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  }, extra);
}
async function until(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (pred()) return true; await sleep(100); }
  return pred();
}
function idx(msg) { const m = /^m(\d+)$/.exec(msg.body.toString()); return m ? Number(m[1]) : -1; }

async function send(producer, from, to) {
  let ok = 0;
  for (let i = from; i < to; i++) {
    const msg = new Message(TOPIC, i % 2 === 0 ? 'TagA' : 'TagB', Buffer.from(`m${i}`));
    msg.keys = [ `k${i}` ];
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        const r = await producer.send(msg);
        if (r.sendStatus === 'SEND_OK') { ok++; break; }
      } catch (err) { await sleep(250); }
    }
  }
  return ok;
}

async function main() {
  if (!NS) { console.error('TERN_NAMESRV_ADDR is not set (run through conformance/run-client)'); process.exit(2); }
  const producer = new Producer(opts({ producerGroup: 'PID_conf_ons', instanceName: 'p1' }));
  producer.on('error', () => {});
  await producer.ready();
  const sent = await send(producer, 0, N);
  result('produce_tags_keys', sent === N, `${sent} of ${N} sent with SEND_OK`);

  const all = new Map();
  let bad = 0;
  const per = { c1: 0, c2: 0 };
  function allConsumer(name, seen) {
    const c = new Consumer(opts({ consumerGroup: 'GID_conf_all', instanceName: name }));
    c.subscribe(TOPIC, '*', async msg => {
      const i = idx(msg);
      if (i < 0) return;
      if (msg.keys !== `k${i}` || msg.tags !== (i % 2 === 0 ? 'TagA' : 'TagB')) bad++;
      seen.set(i, (seen.get(i) || 0) + 1);
      if (per[name] !== undefined) per[name]++;
    });
    c.on('error', () => {});
    return c;
  }
  const c1 = allConsumer('c1', all);
  const c2 = allConsumer('c2', all);
  const tagA = new Map();
  let wrongTag = 0;
  const c3 = new Consumer(opts({ consumerGroup: 'GID_conf_tagA', instanceName: 'c3' }));
  c3.subscribe(TOPIC, 'TagA', async msg => {
    if (msg.tags !== 'TagA') { wrongTag++; return; }
    tagA.set(idx(msg), true);
  });
  c3.on('error', () => {});
  await Promise.all([ c1.ready(), c2.ready(), c3.ready() ]);
  const gotAll = await until(() => all.size === N && tagA.size === N / 2, 60000);
  await sleep(1500); // late duplicates or wrong tags would show now
  result('consume_clustering', all.size === N && bad === 0,
    `${all.size} of ${N} distinct messages (c1 ${per.c1}, c2 ${per.c2} deliveries), ${bad} with wrong tags/keys`);
  result('consume_tag_filter', tagA.size === N / 2 && wrongTag === 0 && [ ...tagA.keys() ].every(i => i % 2 === 0),
    `${tagA.size} of ${N / 2} TagA messages, ${wrongTag} others delivered`);
  if (!gotAll) console.log('# consumption did not complete within 60 s');

  await Promise.all([ c1.close(), c2.close(), c3.close() ]);
  const sent2 = await send(producer, N, N + MORE);
  const after = new Map();
  const c4 = allConsumer('c4', after);
  await c4.ready();
  await until(() => [ ...after.keys() ].filter(i => i >= N).length === MORE, 40000);
  await sleep(1500);
  const fresh = [ ...after.keys() ].filter(i => i >= N).length;
  const old = [ ...after.keys() ].filter(i => i < N).length;
  result('consume_offset_restart', sent2 === MORE && fresh === MORE && old === 0,
    `new instance got ${fresh} of ${MORE} new messages and ${old} already consumed ones (want 0)`);
  await Promise.all([ c4.close(), producer.close() ]);
  console.log(`# done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(failed ? 1 : 0);
}
setTimeout(() => { console.log('SCENARIO deadline FAIL the scenario ran past 150 s'); process.exit(1); }, 150000).unref();
main().catch(err => { console.log(`SCENARIO exception FAIL ${err && err.stack}`); process.exit(1); });
