'use strict';
// A minimal RocketMQ remoting client for the test's own admin calls (create a
// topic, read routes and consumer lists): JSON header frames, one request at a
// time per call, a fresh connection each time. The clients under test are
// ali-ons's own; this only drives and inspects the servers.
const net = require('net');

let opaque = 1;

function call(port, code, extFields, body, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const header = Buffer.from(JSON.stringify({
      code, flag: 0, language: 'JAVA', opaque: opaque++, serializeTypeCurrentRPC: 'JSON', version: 409,
      extFields: extFields || {},
    }));
    const bodyBuf = body ? Buffer.from(body) : Buffer.alloc(0);
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4 + header.length + bodyBuf.length, 0);
    frame.writeInt32BE(header.length, 4);
    const sock = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`request ${code} timed out`)); }, timeoutMs);
    sock.on('connect', () => sock.write(Buffer.concat([ frame, header, bodyBuf ])));
    sock.on('data', d => {
      got = Buffer.concat([ got, d ]);
      if (got.length < 4) return;
      const len = got.readInt32BE(0);
      if (got.length < 4 + len) return;
      clearTimeout(timer);
      sock.destroy();
      const hlen = got.readInt32BE(4) & 0xffffff;
      const resp = JSON.parse(got.slice(8, 8 + hlen).toString());
      resp.body = got.slice(8 + hlen, 4 + len);
      resolve(resp);
    });
    sock.on('error', err => { clearTimeout(timer); reject(err); });
  });
}

module.exports = { call };
