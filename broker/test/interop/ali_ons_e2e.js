'use strict';
// End-to-end test of mqnamesrv + mqbroker with the real ali-ons client
// (reference §14). Usage: node ali_ons_e2e.js <mqnamesrv> <mqbroker>
//
//  1. start mqnamesrv and mqbroker (temp dirs, loopback, free ports)
//  2. create topic IOTopic (8 queues) and wait for its route
//  3. start two ali-ons consumers in group GID_all ('*', clustering) and one
//     in GID_tagA (subscribes to TagA only; it fails its first delivery of
//     message 8 once, so that message comes back through CONSUMER_SEND_MSG_BACK
//     and %RETRY%GID_tagA)
//  4. an ali-ons producer sends 10,000 messages with tags (TagA/TagB) and keys
//  5. once the consumers are mid-stream, SIGKILL the broker (the producer keeps
//     retrying), check consumerOffset.json holds the committed offsets, restart
//     the broker over the same store and port, replace one GID_all member by a
//     new instance (it starts from the broker's committed offsets)
//  6. check: GID_all got all 10,000 (at least once, both members took part),
//     GID_tagA got every TagA message and nothing else, redeliveries after the
//     restart stay far below what was consumed before it (consumers resumed
//     from their offsets, not from the start), and the broker's admin view
//     agrees (GET_CONSUMER_LIST_BY_GROUP lists both members).
// Exit 0 on success, 1 on failure; bounded by a global deadline.

const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { spawn } = require('child_process');
const { Producer, Consumer, Message } = require('ali-ons');
const { call } = require('./remoting');

const [ NAMESRV_BIN, BROKER_BIN ] = process.argv.slice(2);
const TOTAL = Number(process.env.TERN_INTEROP_MESSAGES || 10000);
const TOPIC = 'IOTopic';
const DEADLINE_MS = Number(process.env.TERN_INTEROP_DEADLINE_MS || 150000);
const t0 = Date.now();

function log(...a) { console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a); }
function fail(msg) { console.error(`FAIL: ${msg}`); cleanup(); process.exit(1); }
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function waitFor(what, pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(100);
  }
  fail(`timed out waiting for ${what}`);
}
setTimeout(() => fail(`global deadline of ${DEADLINE_MS} ms passed`), DEADLINE_MS).unref();

// ---- processes ----
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tern_alions_'));
const procs = {};
function cleanup() {
  for (const p of Object.values(procs)) if (p && p.exitCode === null) p.kill('SIGKILL');
  if (!process.env.TERN_INTEROP_KEEP) fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);

function portFree(port) {
  return new Promise(resolve => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function pickPort() {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    if (await portFree(p) && await portFree(p - 2)) return p;
  }
  fail('no free port');
}
function canConnect(port) {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function startNamesrv() {
  const conf = path.join(dir, 'namesrv.conf');
  fs.writeFileSync(conf, `listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=${dir}/kv/kvConfig.json\nlogLevel=warn\n`);
  const p = spawn(NAMESRV_BIN, [ '-c', conf ], { stdio: [ 'ignore', 'pipe', 'inherit' ] });
  procs.ns = p;
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', d => {
      out += d;
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    p.on('exit', code => reject(new Error(`mqnamesrv exited ${code}`)));
  });
}

let brokerPort;
let nsPort;
async function startBroker() {
  const conf = path.join(dir, 'broker.conf');
  fs.writeFileSync(conf, [
    'brokerClusterName=InteropCluster', 'brokerName=broker-io', 'brokerId=0', `listenPort=${brokerPort}`,
    'bindAddress=127.0.0.1', 'brokerIP1=127.0.0.1', `namesrvAddr=127.0.0.1:${nsPort}`,
    `storePathRootDir=${dir}/store`, 'mappedFileSizeCommitLog=67108864', 'flushConsumerOffsetInterval=1000',
    'logLevel=warn', '',
  ].join('\n'));
  const p = spawn(BROKER_BIN, [ '-c', conf ], { stdio: [ 'ignore', 'ignore', 'inherit' ] });
  procs.broker = p;
  await waitFor('the broker to listen', async () => {
    if (p.exitCode !== null) fail(`mqbroker exited with ${p.exitCode} during start-up`);
    return canConnect(brokerPort);
  }, 20000);
}

// ---- admin calls (the test's own minimal remoting client) ----
const CODES = { UPDATE_AND_CREATE_TOPIC: 17, GET_ROUTEINFO_BY_TOPIC: 105, GET_CONSUMER_LIST_BY_GROUP: 38 };

async function createTopic() {
  const r = await call(brokerPort, CODES.UPDATE_AND_CREATE_TOPIC, {
    topic: TOPIC, defaultTopic: 'TBW102', readQueueNums: '8', writeQueueNums: '8', perm: '6',
    topicFilterType: 'SINGLE_TAG', topicSysFlag: '0', order: 'false',
  });
  if (r.code !== 0) fail(`UPDATE_AND_CREATE_TOPIC answered ${r.code} ${r.remark}`);
  await waitFor('the route of the topic', async () => {
    const rr = await call(nsPort, CODES.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC });
    return rr.code === 0;
  }, 10000);
}

// ---- ali-ons clients ----
const quiet = {
  info() {}, debug() {}, warn() {},
  error(...a) { errors++; if (errors <= 5) console.error('[ali-ons error]', ...a.map(x => (x && x.message) || x)); },
};
let errors = 0;
const httpclient = { async request() { throw new Error('no onsAddr lookups in this test'); } };
function clientOptions(extra) {
  return Object.assign({
    httpclient, nameSrv: `127.0.0.1:${nsPort}`, logger: quiet, accessKeyId: '', accessKeySecret: '',
    heartbeatBrokerInterval: 2000, rebalanceInterval: 2000, persistConsumerOffsetInterval: 1000,
    pollNameServerInteval: 2000, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  }, extra);
}

const allSeen = new Map(); // index -> deliveries to GID_all
const perMember = { c1: 0, c2: 0, c2b: 0 };
const tagASeen = new Map();
let tagAWrongTag = 0;
let retriedOnce = false;
let retryDelivered = false;
let restarted = false;
let seenBeforeKill = 0;
let committedAtKill = {};
let redeliveredAfterRestart = 0;
let minRedelivered = Infinity; // lowest message index delivered again after the restart
const redeliveredBy = { c1: 0, c2: 0, c2b: 0 };
const redeliveries = []; // [queueId, queueOffset] of GID_all deliveries of already-seen messages after the restart

function indexOf(msg) {
  const m = /^m(\d+)$/.exec(msg.body.toString());
  return m ? Number(m[1]) : -1;
}

function makeAllConsumer(name) {
  const c = new Consumer(clientOptions({ consumerGroup: 'GID_all', instanceName: name }));
  c.subscribe(TOPIC, '*', async msg => {
    const i = indexOf(msg);
    if (i < 0) return;
    const n = allSeen.get(i) || 0;
    if (n > 0 && restarted) {
      redeliveredAfterRestart++;
      redeliveredBy[name]++;
      minRedelivered = Math.min(minRedelivered, i);
      redeliveries.push([ msg.queueId, Number(msg.queueOffset) ]);
    }
    allSeen.set(i, n + 1);
    perMember[name]++;
    if (msg.keys !== `k${i}` || msg.tags !== (i % 2 === 0 ? 'TagA' : 'TagB')) fail(`message ${i}: keys ${msg.keys} tags ${msg.tags}`);
  });
  c.on('error', err => quiet.error(err));
  return c;
}

function makeTagConsumer() {
  const c = new Consumer(clientOptions({ consumerGroup: 'GID_tagA', instanceName: 'c3' }));
  c.subscribe(TOPIC, 'TagA', async msg => {
    const i = indexOf(msg);
    if (msg.tags !== 'TagA') { tagAWrongTag++; return; }
    if (i === 8 && !retriedOnce) { // fail the first delivery once: back through CONSUMER_SEND_MSG_BACK
      retriedOnce = true;
      return Consumer.ACTION_RETRY;
    }
    if (i === 8 && retriedOnce && msg.reconsumeTimes >= 1) retryDelivered = true;
    tagASeen.set(i, (tagASeen.get(i) || 0) + 1);
  });
  c.on('error', err => quiet.error(err));
  return c;
}

async function sendRange(producer, from, to) {
  const CONC = 16;
  let next = from;
  async function worker() {
    while (next < to) {
      const i = next++;
      const msg = new Message(TOPIC, i % 2 === 0 ? 'TagA' : 'TagB', Buffer.from(`m${i}`));
      msg.keys = [ `k${i}` ];
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await producer.send(msg);
          if (r.sendStatus !== 'SEND_OK') throw new Error(`send status ${r.sendStatus}`);
          // Paced (16 workers x 8 ms, about 2,000 msg/s): the stream must still be
          // flowing when the broker is killed at a quarter, on fast and slow machines.
          await sleep(8);
          break;
        } catch (err) {
          if (attempt > 60) fail(`could not send message ${i}: ${err.message}`);
          await sleep(250);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: CONC }, worker));
}

async function main() {
  if (!NAMESRV_BIN || !BROKER_BIN) fail('usage: node ali_ons_e2e.js <mqnamesrv> <mqbroker>');
  nsPort = await startNamesrv();
  brokerPort = await pickPort();
  await startBroker();
  log(`mqnamesrv on ${nsPort}, mqbroker on ${brokerPort}`);
  await createTopic();
  log('topic created and routed');

  const c1 = makeAllConsumer('c1');
  const c2 = makeAllConsumer('c2');
  const c3 = makeTagConsumer();
  await Promise.all([ c1.ready(), c2.ready(), c3.ready() ]);
  const producer = new Producer(clientOptions({ producerGroup: 'PID_interop', instanceName: 'p1' }));
  producer.on('error', err => quiet.error(err));
  await producer.ready();
  log('clients ready');

  // Everything is sent in one stream; the broker is killed while it flows.
  const tSend = Date.now();
  const sending = sendRange(producer, 0, TOTAL).then(() => log(`sent ${TOTAL} in ${Date.now() - tSend} ms`));

  await waitFor('consumers to be mid-stream', () => allSeen.size >= Math.floor(TOTAL / 4), 60000);
  await sleep(1200); // an offset commit (1 s) and the broker's offset flush (1 s) or so
  seenBeforeKill = allSeen.size;
  log(`killing the broker with SIGKILL (GID_all has ${seenBeforeKill} distinct messages)`);
  procs.broker.kill('SIGKILL');
  await new Promise(r => procs.broker.once('exit', r));
  restarted = true;

  // The committed offsets reached the disk before the kill.
  const offText = fs.readFileSync(path.join(dir, 'store', 'config', 'consumerOffset.json'), 'utf8');
  const committedQueues = group => { // fastjson map: {0:12,1:34} (integer keys unquoted)
    const m = new RegExp(`"${TOPIC}@${group}"\\s*:\\s*\\{([^}]*)\\}`).exec(offText);
    const q = {};
    if (m) for (const kv of m[1].split(',')) if (kv.includes(':')) q[Number(kv.split(':')[0])] = Number(kv.split(':')[1]);
    return q;
  };
  const committed = group => Object.values(committedQueues(group)).reduce((a, b) => a + b, 0);
  committedAtKill = committedQueues('GID_all');
  const committedAll = committed('GID_all');
  log(`consumerOffset.json at the kill: GID_all ${committedAll}, GID_tagA ${committed('GID_tagA')}`);
  if (committedAll <= 0) fail('no committed offsets of GID_all in consumerOffset.json after the kill');

  await startBroker();
  log('broker restarted');
  // One member is replaced: the new one starts from the offsets the broker holds.
  await c2.close();
  const c2b = makeAllConsumer('c2b');
  await c2b.ready();
  log('member c2 replaced by c2b');
  await sending;

  await waitFor('GID_all to receive every message', () => allSeen.size >= TOTAL, 90000);
  await waitFor('GID_tagA to receive every TagA message', () => tagASeen.size >= TOTAL / 2, 30000);
  log(`GID_all: ${allSeen.size} distinct, c1 ${perMember.c1}, c2 ${perMember.c2}, c2b ${perMember.c2b}, redelivered after restart ${redeliveredAfterRestart} ${JSON.stringify(redeliveredBy)}, lowest ${minRedelivered}`);
  log(`GID_tagA: ${tagASeen.size} distinct, wrong tag ${tagAWrongTag}, retried message back: ${retryDelivered}`);

  for (let i = 0; i < TOTAL; i++) if (!allSeen.has(i)) fail(`GID_all lost message ${i}`);
  for (let i = 0; i < TOTAL; i += 2) if (!tagASeen.has(i)) fail(`GID_tagA lost TagA message ${i}`);
  for (const i of tagASeen.keys()) if (i % 2 !== 0) fail(`GID_tagA got TagB message ${i}`);
  if (tagAWrongTag) fail(`GID_tagA was handed ${tagAWrongTag} messages of another tag`);
  if (!perMember.c1 || !perMember.c2 || !perMember.c2b)
    fail(`every GID_all member must consume (c1 ${perMember.c1}, c2 ${perMember.c2}, c2b ${perMember.c2b})`);
  if (!retryDelivered) fail('the message sent back with ACTION_RETRY did not come back through %RETRY%GID_tagA');
  // Resumed from the committed offsets: nothing below the offset committed
  // (and on disk) at the kill was delivered again.
  for (const [ q, off ] of redeliveries)
    if (!(q in committedAtKill) || off < committedAtKill[q])
      fail(`queue ${q} offset ${off} redelivered after the restart, below the committed ${committedAtKill[q]}`);

  const list = await call(brokerPort, CODES.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'GID_all' });
  if (list.code !== 0) fail(`GET_CONSUMER_LIST_BY_GROUP answered ${list.code} ${list.remark}`);
  const ids = JSON.parse(list.body.toString()).consumerIdList;
  if (ids.length !== 2) fail(`GID_all should have 2 members, broker lists ${JSON.stringify(ids)}`);

  await Promise.all([ c1.close(), c2b.close(), c3.close(), producer.close() ]);
  procs.broker.kill('SIGTERM');
  const code = await new Promise(r => procs.broker.once('exit', (c, s) => r(c === null ? s : c)));
  if (code !== 0) fail(`mqbroker exited with ${code} on SIGTERM`);
  procs.ns.kill('SIGTERM');
  log(`PASS (${errors} client errors logged, mostly around the broker kill)`);
  process.exit(0);
}

main().catch(err => fail(err.stack || err.message));
