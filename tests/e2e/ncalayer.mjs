// Issue 33: the demo signer that `drn serve --demo` starts beside the server speaks
// NCALayer's protocol well enough for the real client package, `ncalayer-js-client`, to sign
// through it unchanged (from node here; pages use the same client). The officer's key is
// picked by IIN as NCALayer's dialog picks it; the CMS verifies with openssl against the demo
// PKI's chain.pem and carries the demo's date (the server runs as of 2019-11-20).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { out, citizens } from './support.mjs';

const { NCALayerClient } = createRequire(import.meta.url)('ncalayer-js-client');

/// The signer's address, the PKI directory and the demo officers (username → IIN), as
/// `drn serve --demo` printed them.
function demo() {
  const url = out.match(/^Demo signer \(NCALayer's protocol.*: (ws:\/\/127\.0\.0\.1:\d+)$/m)?.[1];
  const pki = out.match(/^Documents are signed with the PKI in (.+) \(CA certificate/m)?.[1];
  const officers = {};
  for (const line of out.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+demo-\S+\s+.*\s+IIN (\d{12}) key (\S+)$/);
    if (m) officers[m[1]] = m[2];
  }
  assert.ok(url, `no demo signer address in the server's output:\n${out}`);
  assert.ok(pki);
  return { url, pki, officers };
}

function haveOpenssl() {
  try { execFileSync('openssl', ['version']); return true; } catch { return false; }
}

/// openssl cms -verify of a detached CMS (base64) over `content` against chain.pem.
function opensslVerify(pki, cmsB64, content) {
  const dir = mkdtempSync(join(tmpdir(), 'drn-ncalayer-'));
  writeFileSync(join(dir, 'x.p7s'), Buffer.from(cmsB64, 'base64'));
  writeFileSync(join(dir, 'x.bin'), content);
  execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'x.p7s'), '-content', join(dir, 'x.bin'), '-CAfile', join(pki, 'chain.pem'), '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' });
  return execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'x.p7s')]).toString();
}

test('ncalayer-js-client signs through the demo signer with the officer\'s own key', async () => {
  const { url, pki, officers } = demo();
  const iin = officers['district.astana'];
  assert.match(iin, /^\d{12}$/);
  const client = new NCALayerClient(url, false);
  const version = await client.connect();
  assert.equal(version, '1.4.0');
  assert.equal(client.isKmd, false);
  assert.deepEqual(await client.getActiveTokens(), []);

  const content = Buffer.from('Реестр № 7 от 20.11.2019, район Алматы');
  // In node the client's base64 helper is a stub: the data goes in as base64 already.
  const cms = await client.basicsSignCMS(
    NCALayerClient.basicsStoragePKCS12,
    content.toString('base64'),
    NCALayerClient.basicsCMSParamsDetachedNoTSP,
    { ...NCALayerClient.basicsSignerSignEmployee, iin },
  );
  assert.equal(typeof cms, 'string');
  if (haveOpenssl()) {
    const printed = opensslVerify(pki, cms, content);
    assert.match(printed, new RegExp(`serialNumber=IIN${iin}`));
    assert.match(printed, /UTCTIME:Nov 20 \d\d:\d\d:\d\d 2019 GMT/);
  } else {
    console.log('SKIP: openssl is not installed; the CMS is not verified');
  }

  // commonUtils names no IIN: the key used last signs.
  const again = await client.createCAdESFromBase64(NCALayerClient.fileStorageType, content.toString('base64'));
  if (haveOpenssl()) assert.match(opensslVerify(pki, again, content), new RegExp(`IIN${iin}`));
  const info = await client.getKeyInfo(NCALayerClient.fileStorageType);
  assert.equal(info.alias, `IIN${iin}`);

  // An IIN with no key here is refused as NCALayer refuses (an NCALayerError).
  await assert.rejects(
    client.basicsSignCMS(NCALayerClient.basicsStoragePKCS12, content.toString('base64'), NCALayerClient.basicsCMSParamsDetachedNoTSP, { ...NCALayerClient.basicsSignerSignEmployee, iin: citizens[0].iin }),
    (e) => e.name === 'NCALayerError',
  );
  client.wsConnection.close();
});
