// Issue 33: officers sign with their own keys through NCALayer's protocol. The demo server
// runs the demo's signer (the stand-in for NCALayer on the officer's computer, with the demo
// officers' keys); the pages drive it through the vendored ncalayer-js-client, as they
// would a real NCALayer. Walked here: the counter certifies S1's formulary at intake (kk),
// the district signs its registry (ru), the district registers the citizen (S3) and signs
// the notice on the card (kk and ru); `pdfsig` lists the officer and the organisation on each
// PDF, dated as of the demo's day, and `openssl cms -verify` accepts the detached signature
// with the demo CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base, chooseAddress, citizens, dataDir, shot, staff } from './support.mjs';

const work = mkdtempSync(join(tmpdir(), 'drn-e2e-sig-'));

function have(tool) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

/// Downloads a document's PDF (and its detached signature) as `page`'s user; pdfsig's report.
async function pdfsigOf(page, pdfHref, name) {
  const res = await page.request.get(`${base}${pdfHref}`);
  assert.equal(res.status(), 200);
  const file = join(work, `${name}.pdf`);
  writeFileSync(file, await res.body());
  const p7s = await page.request.get(`${base}${pdfHref.replace(/\.pdf$/, '.p7s')}`);
  if (p7s.status() === 200) writeFileSync(join(work, `${name}.p7s`), await p7s.body());
  if (!have('pdfsig')) return { file, report: '' };
  let report;
  try {
    report = execFileSync('pdfsig', [file]).toString();
  } catch (e) {
    report = `${e.stdout}`;
  }
  return { file, report };
}

function opensslVerifies(file) {
  const ca = join(dataDir, 'pki', existsSync(join(dataDir, 'pki', 'chain.pem')) ? 'chain.pem' : 'ca.pem');
  if (!have('openssl') || !existsSync(`${file.replace(/\.pdf$/, '.p7s')}`)) return;
  execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', file.replace(/\.pdf$/, '.p7s'), '-content', file, '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null']);
}

test('officers sign with their own keys: the formulary at intake, a registry, a result (issue 33)', async () => {
  const citizen = citizens[5] || citizens[0];
  // The counter officer, in Kazakh: the S1 form certifies the formulary through the signer.
  const counter = await staff('op.astana.1');
  await counter.goto(`${base}/lang/kk?back=/ws/person?iin=${citizen.iin}`);
  const s1 = counter.locator('details', { has: counter.locator('input[name="service"][value="S1"]') });
  await s1.getByText(/ЭЦҚ-ңызбен куәландырылады/).waitFor();
  await shot(counter, 'sig-formulary-form-kk');
  await s1.getByRole('button', { name: /^Қабылдау$|^Принять$/ }).click();
  await counter.getByRole('heading', { name: /Өтініш қабылданды|Заявление принято/ }).waitFor({ timeout: 30000 });
  await counter.getByRole('link', { name: /^Өтініш$|^Заявление$/ }).click();
  await counter.getByText(/Формуляр ЭЦҚ-мен куәландырылды/).waitFor();
  await shot(counter, 'sig-formulary-card-kk');
  await counter.getByRole('button', { name: /Қадамды аяқтау|Завершить шаг/ }).click();

  // The district officer, in Russian, signs the district registry on the registries page.
  const district = await staff('district.astana');
  await district.goto(`${base}/lang/ru?back=/ws/registries`);
  await district.getByRole('button', { name: /Сформировать реестр/ }).first().click();
  await district.getByRole('button', { name: /^Подписать ЭЦП$/ }).first().waitFor();
  await shot(district, 'sig-registry-to-sign-ru');
  await Promise.all([
    district.waitForNavigation({ timeout: 30000 }),
    district.getByRole('button', { name: /^Подписать ЭЦП$/ }).first().click(),
  ]);
  await district.getByRole('button', { name: /^Отправить$/ }).first().waitFor();
  await shot(district, 'sig-registry-signed-ru');
  const regPdf = await district.locator('a[href$=".pdf"]').first().getAttribute('href');
  const reg = await pdfsigOf(district, regPdf, 'registry');
  if (reg.report) {
    assert.match(reg.report, /Signature #1:[\s\S]*IIN\d{12}/, reg.report);
    assert.match(reg.report, /Signature #2:[\s\S]*Министерство внутренних дел/, reg.report);
    assert.match(reg.report, /Signing Time: Nov 20 2019/, `signed as of the demo's day: ${reg.report}`);
    assert.doesNotMatch(reg.report, /Signature is Invalid|Digest Mismatch/, reg.report);
  }
  opensslVerifies(reg.file);
  await district.getByRole('button', { name: /^Отправить$/ }).first().click();

  // The district officer registers the citizen at an address (S3 at a ЦОН workstation) and
  // issues the notice; the card asks for the officer's own signature.
  const issuer = await staff('district.astana');
  await issuer.goto(`${base}/lang/ru?back=/ws`);
  const rka = await chooseAddress(issuer, citizen.iin);
  const s3 = issuer.locator('details', { has: issuer.locator('input[name="service"][value="S3"]') });
  assert.equal(await s3.locator('input[name="d.rka"]').inputValue(), rka);
  await s3.getByLabel(/ИИН собственника/).fill(citizen.iin);
  await s3.getByLabel(/Согласие собственника/).check();
  await s3.getByRole('button', { name: /^Принять$/ }).click();
  await issuer.getByRole('heading', { name: /Заявление принято/ }).waitFor();
  await issuer.getByRole('link', { name: /^Заявление$/ }).click();
  await Promise.all([issuer.waitForNavigation(), issuer.getByRole('button', { name: /^Выдать$/ }).click()]);
  await issuer.getByRole('heading', { name: /Документ ожидает вашей подписи ЭЦП/ }).waitFor();
  await shot(issuer, 'sig-result-awaiting-ru');
  const url = issuer.url();
  await issuer.goto(`${base}/lang/kk?back=${new URL(url).pathname}`);
  await issuer.getByRole('heading', { name: /Құжат сіздің ЭЦҚ-ңызбен қол қоюды күтуде/ }).waitFor();
  await shot(issuer, 'sig-result-awaiting-kk');
  await Promise.all([
    issuer.waitForNavigation({ timeout: 30000 }),
    issuer.getByRole('button', { name: /^ЭЦҚ-мен қол қою$/ }).click(),
  ]);
  assert.equal(await issuer.locator('form[data-sign-prepare]').count(), 0, 'nothing waits any more');
  const pdf = issuer.locator('a[data-doc-pdf]').last();
  await pdf.waitFor();
  await shot(issuer, 'sig-result-signed-kk');
  const res = await pdfsigOf(issuer, await pdf.getAttribute('href'), 'registration-notice');
  if (res.report) {
    assert.match(res.report, /Signature #1:[\s\S]*IIN\d{12}/, res.report);
    assert.match(res.report, /Министерство внутренних дел/, res.report);
    assert.match(res.report, /Signing Time: Nov 20 2019/, res.report);
    assert.doesNotMatch(res.report, /Signature is Invalid|Digest Mismatch/, res.report);
  }
  opensslVerifies(res.file);
});
