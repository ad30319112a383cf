// notify_rate.mjs - posts N notifications to nenfhir's listener one after
// the other on ONE kept-alive TLS connection (as a FHIR server delivering
// serially does) and prints {"n", "ms", "perSecond", "meanMs", "sockets"}.
// Usage: node notify_rate.mjs URL CA_FILE SECRET_HEADER SECRET N
// Each notification is Medplum style: POST URL with an Observation (a heart
// rate: stored and acknowledged, no case work).
import https from 'node:https';
import fs from 'node:fs';

const [url, caFile, header, secret, nArg] = process.argv.slice(2);
const n = Number(nArg || 200);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: fs.readFileSync(caFile) });
const sockets = new Set();

function post(i) {
  const body = JSON.stringify({
    resourceType: 'Observation', id: `rate-${i}`, meta: { versionId: '1' }, status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: 'Patient/rate' }, valueQuantity: { value: 60 + (i % 40), unit: '/min' },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST', agent,
      headers: { 'Content-Type': 'application/fhir+json', [header]: secret,
                 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      sockets.add(res.socket);
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

await post(-1); // the handshake, outside the timing
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) await post(i);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
agent.destroy();
console.log(JSON.stringify({ n, ms: Math.round(ms), perSecond: Math.round((n * 1000) / ms),
                             meanMs: +(ms / n).toFixed(2), sockets: sockets.size }));
