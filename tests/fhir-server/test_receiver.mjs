#!/usr/bin/env node
// A rest-hook receiver for the server selftest: an HTTPS server that appends
// every request it gets to a JSON-lines file as
//   {"time","method","path","headers","body"}    (body: the exact text, "" if none)
// and answers 200, or 500 for paths starting with /fail.
//
//   node test_receiver.mjs --cert FILE --key FILE --out FILE [--ca FILE]
//
// With --ca it requires a client certificate signed by that CA. Prints
// {"port":N} on stdout once listening on 127.0.0.1; exits on SIGTERM/SIGINT.
// Built-in modules only.

import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' }, out: { type: 'string' } },
});
if (!values.cert || !values.key || !values.out) {
  process.stderr.write('usage: node test_receiver.mjs --cert FILE --key FILE --out FILE [--ca FILE]\n');
  process.exit(2);
}

const server = https.createServer(
  {
    cert: fs.readFileSync(values.cert),
    key: fs.readFileSync(values.key),
    ...(values.ca ? { ca: fs.readFileSync(values.ca), requestCert: true, rejectUnauthorized: true } : {}),
  },
  (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        time: new Date().toISOString(),
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      fs.appendFileSync(values.out, `${JSON.stringify(entry)}\n`);
      res.writeHead(req.url.startsWith('/fail') ? 500 : 200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
    });
  }
);

server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
