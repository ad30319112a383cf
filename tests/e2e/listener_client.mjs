// listener_client.mjs - hostile and odd clients of nenfhir's listener, for
// the e2e tests I1_listener_*.sh (issue 12 item 7). TLS over node:tls, raw
// bytes (no HTTP library: the point is to send what a library would not).
// Usage: node listener_client.mjs MODE --port P --ca CA_FILE [options]
//   --from ADDR        local address to connect from (127.0.0.2, ...: another peer)
//   slow  --interval MS --limit S
//         one connection sending a request's header one byte every MS; prints
//         {"closedBy":"server"|"client","seconds":T,"bytes":N} when the server
//         closes it, or after S seconds (then closedBy "client").
//   conns --count N --wait S --hold S2
//         N connections; after S seconds prints {"open":K,"closed":M} (one
//         line), holds the open ones S2 seconds more, then exits.
//   hold  --count N --bytes B --header K:V --wait S --hold S2
//         N connections, each POST /notify with Content-Length B and B-1 body
//         bytes sent; once every one is sent or closed (or after S seconds)
//         prints {"sent":K,"closed":M,"open":O}; holds S2 seconds more.
//   raw   --text JSON_STRING
//         sends the bytes of the (JSON-quoted) string and prints every
//         response status code read before the server closes (or 10 s):
//         {"statuses":[400],"closed":true,"head":"HTTP/1.1 400 ..."}.
import tls from 'node:tls';
import fs from 'node:fs';

const [mode, ...rest] = process.argv.slice(2);
const opt = { header: [] };
for (let i = 0; i < rest.length; i += 2) {
  const k = rest[i].replace(/^--/, '');
  if (k === 'header') opt.header.push(rest[i + 1]);
  else opt[k] = rest[i + 1];
}
const ca = fs.readFileSync(opt.ca);
const port = Number(opt.port);

function connect() {
  return tls.connect({ host: '127.0.0.1', port, ca, localAddress: opt.from, servername: undefined });
}

function out(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function slow() {
  const interval = Number(opt.interval || 1000);
  const limit = Number(opt.limit || 60) * 1000;
  const text = 'POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100000);
  const t0 = Date.now();
  const s = connect();
  let bytes = 0, closed = false;
  s.on('error', () => {});
  s.on('close', () => { closed = true; });
  await new Promise((r) => { s.once('secureConnect', r); s.once('close', r); });
  while (!closed && Date.now() - t0 < limit && bytes < text.length) {
    s.write(text[bytes++]);
    await sleep(interval);
  }
  const seconds = (Date.now() - t0) / 1000;
  out({ closedBy: closed ? 'server' : 'client', seconds, bytes });
  s.destroy();
}

function open(n, onReady) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = connect();
    const st = { s, closed: false, ready: false };
    s.on('error', () => {});
    s.on('close', () => { st.closed = true; });
    s.on('secureConnect', () => { st.ready = true; if (onReady) onReady(st); });
    socks.push(st);
  }
  return socks;
}

async function conns() {
  const socks = open(Number(opt.count));
  await sleep(Number(opt.wait || 3) * 1000);
  const closed = socks.filter((x) => x.closed).length;
  out({ open: socks.length - closed, closed });
  await sleep(Number(opt.hold || 0) * 1000);
  socks.forEach((x) => x.s.destroy());
}

async function hold() {
  const bytes = Number(opt.bytes);
  const headers = opt.header.map((h) => h.replace(':', ': ') + '\r\n').join('');
  const head = `POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n${headers}Content-Length: ${bytes}\r\n\r\n`;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const socks = open(Number(opt.count), (st) => {
    st.s.write(head);
    let left = bytes - 1;
    const pump = () => {
      while (left > 0 && !st.closed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!st.s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          st.s.once('drain', pump);
          return;
        }
      }
      if (left === 0) st.sent = true;
    };
    pump();
  });
  const deadline = Date.now() + Number(opt.wait || 60) * 1000;
  while (Date.now() < deadline && !socks.every((x) => x.sent || x.closed)) await sleep(200);
  await sleep(500);
  const closed = socks.filter((x) => x.closed).length;
  const sent = socks.filter((x) => x.sent && !x.closed).length;
  out({ sent, closed, open: socks.length - closed });
  await sleep(Number(opt.hold || 0) * 1000);
  socks.forEach((x) => x.s.destroy());
}

async function raw() {
  const text = JSON.parse(opt.text);
  const s = connect();
  let data = '', closed = false;
  s.on('data', (d) => { data += d.toString('latin1'); });
  s.on('error', () => {});
  s.on('close', () => { closed = true; });
  await new Promise((r) => { s.once('secureConnect', r); s.once('close', r); });
  if (!closed) s.write(text);
  const t0 = Date.now();
  while (!closed && Date.now() - t0 < 10000) await sleep(50);
  const statuses = [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
  out({ statuses, closed, head: data.slice(0, 400) });
  s.destroy();
}

const modes = { slow, conns, hold, raw };
if (!modes[mode]) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
await modes[mode]();
process.exit(0);
