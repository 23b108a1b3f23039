'use strict';
// ali-ons side of the Tern C client interop test (test_interop_alions.c).
//   node alions_peer.js consume <namesrv> <topic> <group> <count> <timeout_ms>
//     subscribes '*' from the first offset and prints one JSON line per
//     message: {seq, msgId, topic, tags, keys, props, body (base64), reconsumeTimes}
//   node alions_peer.js produce <namesrv> <topic>
//     sends the fixed message set below and prints one JSON line per message
//     with what was sent and the broker's answer.
// Exits 0 when done, 1 on error or timeout.
const { Producer, Consumer, Message } = require('ali-ons');

const [ mode, nameSrv, topic ] = process.argv.slice(2);
const quiet = { info() {}, debug() {}, warn() {}, error(...a) { console.error('[ali-ons]', ...a.map(x => (x && x.message) || x)); } };
const httpclient = { async request() { throw new Error('no onsAddr lookups'); } };
const opts = extra => Object.assign({
  httpclient, nameSrv, logger: quiet, accessKeyId: '', accessKeySecret: '',
  heartbeatBrokerInterval: 2000, rebalanceInterval: 2000, persistConsumerOffsetInterval: 1000,
  pollNameServerInteval: 2000, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
}, extra);
const SYS = new Set([ 'TAGS', 'KEYS', 'WAIT', 'UNIQ_KEY', 'MIN_OFFSET', 'MAX_OFFSET', 'CLUSTER', 'CONSUME_START_TIME', 'DELAY' ]);

// The messages ali-ons sends: tags, keys, properties, a compressed (>4 KiB) body, non-ASCII bodies.
function messageSet() {
  const big = Buffer.alloc(10000);
  for (let i = 0; i < big.length; i++) big[i] = 97 + (i * 7) % 26;
  return [
    { tags: 'TagA', keys: [ 'k-0' ], props: { seq: '0', color: 'red' }, body: Buffer.from('plain ascii body') },
    { tags: 'TagB', keys: [ 'k-1a', 'k-1b' ], props: { seq: '1', note: 'two keys' }, body: Buffer.from('héllo wörld — 日本語 ✓') },
    { tags: 'TagA', keys: [ 'k-2' ], props: { seq: '2', size: 'big' }, body: big },
    { tags: 'Tag中', keys: [ 'k-3' ], props: { seq: '3', unicode: 'ünïcödé' }, body: Buffer.from([ 0, 1, 2, 255, 254, 10, 13 ]) },
  ];
}

function line(o) { process.stdout.write(JSON.stringify(o) + '\n'); }

async function consume(group, count, timeoutMs) {
  const c = new Consumer(opts({ consumerGroup: group, instanceName: 'alions-c' }));
  let n = 0;
  const done = new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`timeout after ${n} messages`)), timeoutMs).unref();
    c.subscribe(topic, '*', async msg => {
      const props = {};
      for (const [ k, v ] of Object.entries(msg.properties || {})) if (!SYS.has(k)) props[k] = v;
      line({ seq: props.seq, msgId: msg.msgId, topic: msg.topic, tags: msg.tags || '', keys: msg.keys || '', props,
        body: Buffer.from(msg.body).toString('base64'), reconsumeTimes: msg.reconsumeTimes });
      if (++n >= count) resolve();
    });
    c.on('error', err => console.error('[consumer error]', err.message));
  });
  await c.ready();
  console.error('READY');
  await done;
  await c.close();
}

async function produce() {
  const p = new Producer(opts({ producerGroup: 'PID_alions_interop', instanceName: 'alions-p' }));
  await p.ready();
  for (const m of messageSet()) {
    const msg = new Message(topic, m.tags, m.body);
    msg.keys = m.keys;
    for (const [ k, v ] of Object.entries(m.props)) msg.properties[k] = v;
    const r = await p.send(msg);
    line({ seq: m.props.seq, sendStatus: r.sendStatus, msgId: r.msgId, tags: m.tags, keys: m.keys.join(' '),
      props: m.props, body: m.body.toString('base64') });
  }
  await p.close();
}

(async () => {
  if (mode === 'consume') await consume(process.argv[5], Number(process.argv[6]), Number(process.argv[7]));
  else if (mode === 'produce') await produce();
  else throw new Error(`unknown mode ${mode}`);
  process.exit(0);
})().catch(err => { console.error('FAIL:', err && err.stack || err); process.exit(1); });
