// Issue 29: the screens officers and citizens work in. Every role's main screens and the
// portal, in Kazakh and in Russian, each shot to tests/e2e/artifacts/screens-<lang>-<who>-<page>.png
// and each read for what a Kazakh or Russian reader must not meet: words in Latin letters
// outside a short allowlist (identifiers, codes, proper names), the legal texts' file names,
// English unit words, raw enum keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base, browser, accounts, citizens, staff, shot, citizenOn } from './support.mjs';

/// Words in Latin letters a kk/ru page may show: the system's name, document formats,
/// the sandbox's own labels. Codes (S1E, C71-1-1, R71, PA1234567), all-capital words
/// (a foreigner's name as in the passport, РКА codes) and user names (op.astana.1) are
/// recognised by their shape below.
const ALLOWED = new Set(['DRN', 'Excel', 'PDF', 'CSV', 'SVG', 'CMS', 'QR', 'XML', 'JSON', 'API', 'SMS', 'ID', 'NCALayer']);

/// The offending words of a page's text in `lang` (kk or ru); empty when it is clean.
export function foreignWords(text) {
  const bad = [];
  // Legal texts' file names and English unit words, wherever they stand.
  for (const m of text.matchAll(/\b\d{3}_[0-9a-f]{16}\.txt\b/g)) bad.push(m[0]);
  for (const m of text.matchAll(/\b\d+(?:[.,]\d+)?\s*(wd|cd|min|h|d)\b/g)) bad.push(m[0]);
  for (const m of text.matchAll(/\bfallback\b|\bnot stated\b/g)) bad.push(m[0]);
  // Tokens with Latin letters.
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_.:@\/-]*/g)) {
    const w = m[0].replace(/[.:\/-]+$/, '');
    if (ALLOWED.has(w)) continue;
    if (/^(?=.*\d)[A-Z0-9-]+$/.test(w)) continue; // codes: S1E, C71-1-1, KZ-2019-R00004, SHA-256
    if (/^[A-Z][A-Z'-]+$/.test(w)) continue; // a name as in a passport: SMITH, O'NEIL
    if (/^[a-z]+(\.[a-z0-9]+)+$/.test(w) && !w.includes('_')) continue; // user names: op.astana.1
    if (/^[A-Z]$/.test(w)) continue; // a single letter (a series, a list)
    bad.push(w);
  }
  return bad;
}

test('the Latin-word reader catches what it must and passes what it may', () => {
  assert.deepEqual(foreignWords('Заявитель SMITH JOHN · IE PA1234567 · C71-1-1 · S1E · op.astana.1 · DRN · PDF'), []);
  assert.deepEqual(foreignWords('Срок: 2 wd'), ['2 wd', 'wd']);
  assert.deepEqual(foreignWords('Основание: 000_c01110eb500af984.txt, para. 6').slice(0, 1), ['000_c01110eb500af984.txt']);
  assert.ok(foreignWords('Статус: in_progress').includes('in_progress'));
  assert.ok(foreignWords('Действие не разрешено: this result is issued').includes('this'));
  assert.ok(foreignWords('15 min [not stated; fallback]').includes('fallback'));
});

const seen = [];

/// Opens `path` on `page`, shoots it, and collects its offending words.
async function look(page, lang, who, name, path) {
  if (path) await page.goto(`${base}${path}`);
  await page.waitForLoadState('domcontentloaded');
  const file = `screens-${lang}-${who}-${name}`;
  await shot(page, file);
  // What is marked translate="no" is an identifier or a record shown as it stands (a user
  // name, the audit log's subject and detail, a calendar citation as published): skipped.
  const text = await page.locator('main').evaluate((m) => {
    const c = m.cloneNode(true);
    for (const e of c.querySelectorAll('[translate="no"]')) e.remove();
    document.body.appendChild(c);
    const t = c.innerText;
    c.remove();
    return t;
  });
  const bad = foreignWords(text);
  seen.push({ file, url: page.url(), bad });
  return text;
}

function firstOf(role) {
  return Object.keys(accounts).find((u) => accounts[u].role === role && !u.includes('new'));
}

for (const lang of ['kk', 'ru']) {
  test(`every role's main screens and the portal in ${lang}: shot and read for English and codes`, async () => {
    seen.length = 0;
    const roles = [...new Set(Object.values(accounts).map((a) => a.role).filter(Boolean))];
    assert.ok(roles.length >= 6, `the demo's roles: ${roles}`);
    const resident = citizens[0];
    for (const role of roles) {
      const user = firstOf(role);
      if (!user) continue;
      const page = await staff(user);
      await page.goto(`${base}/lang/${lang}?back=/`);
      const who = role.replace(/_/g, '-');
      const home = await look(page, lang, who, 'home');
      if (['counter_operator', 'district_officer', 'regional_officer', 'central_officer', 'production_operator'].includes(role)) {
        await look(page, lang, who, 'registries', '/ws/registries');
        if (role !== 'production_operator') await look(page, lang, who, 'journals', '/ws/journals');
        await page.goto(`${base}/ws`);
        const first = page.locator('table a[href^="/ws/applications/"]').first();
        if (await first.count()) {
          await first.click();
          await page.waitForURL(/\/ws\/applications\//);
          const card = await look(page, lang, who, 'application');
          // The case is on the card: the applicant by name and what was entered at intake.
          assert.ok(await page.locator('#applicant-name').count(), 'the applicant by name');
          assert.doesNotMatch(card, /F:[A-Z]{2,3}:/, 'a foreigner by name and passport, not by key');
        }
        if (role === 'counter_operator' || role === 'district_officer') {
          await look(page, lang, who, 'person', `/ws/person?iin=${resident.iin}`);
          // An IIN typed short: said in the page's language (qa-staff), a way back to the desk.
          const wrong = await look(page, lang, who, 'person-wrong-iin', '/ws/person?iin=123');
          assert.match(wrong, lang === 'kk' ? /ЖСН қате: 12 цифр/ : /ИИН указан неверно: нужно 12 цифр/);
          assert.ok(await page.locator('main a[href="/ws"]').count(), 'a way back to the desk');
          if (role === 'counter_operator') {
            // S9 at the counter: a foreigner without an IIN; the talon, then the card names
            // them by name and passport, with the data entered.
            await page.goto(`${base}/ws`);
            const f = page.locator('form[action="/ws/foreigners"]');
            await page.locator('details:has(form[action="/ws/foreigners"]) summary').click();
            const passport = `PA${lang === 'kk' ? '7' : '8'}${String(Date.now()).slice(-6)}`;
            await f.locator('input[name="surname"]').fill('O\'NEIL');
            await f.locator('input[name="given_name"]').fill('MARY-ANN');
            await f.locator('input[name="birth_date"]').fill('1990-04-05');
            await f.locator('select[name="sex"]').selectOption('F');
            await f.locator('input[name="citizenship"]').fill('IE');
            await f.locator('input[name="passport"]').fill(passport);
            await f.locator('button[type="submit"]').click();
            await page.waitForURL(/\/ws\/applications\/.*intake=1/);
            const card = await look(page, lang, who, 's9-talon-and-card');
            assert.match(card, /O'NEIL MARY-ANN/);
            assert.match(card, new RegExp(passport));
            assert.doesNotMatch(card, /F:IE:/);
            // The district's way in by the passport finds it.
            await page.goto(`${base}/ws?passport=${passport}`);
            assert.equal(await page.locator('#passport-found tbody tr').count(), 1);
          }
          // The district's way in: a search by a foreigner's passport.
          await page.goto(`${base}/ws`);
          await page.locator('#passport-q').fill('ZZ00000');
          await page.locator('#passport-q').press('Enter');
          await page.waitForURL(/passport=ZZ00000/);
          await look(page, lang, who, 'passport-search');
        }
      }
      if (role === 'supervisor') {
        // A unit's open applications name the service, not a bare "S1" (qa-staff).
        const unit = page.locator('table a[href^="/ws/supervision/unit/"]').first();
        if (await unit.count()) {
          await unit.click();
          await page.waitForURL(/\/ws\/supervision\/unit\//);
          const text = await look(page, lang, who, 'unit');
          if (await page.locator('tbody tr').count()) assert.match(text, /S\d · \S/);
        }
      }
      assert.ok(home.length > 0);
      await page.context().close();
    }
    // The portal.
    const portal = await citizenOn(base, resident);
    await portal.goto(`${base}/lang/${lang}?back=/portal`);
    await look(portal, lang, 'citizen', 'home');
    await look(portal, lang, 'citizen', 'apply', '/portal/apply');
    await look(portal, lang, 'citizen', 'documents', '/portal/documents');
    await look(portal, lang, 'citizen', 'reads', '/portal/reads');
    await look(portal, lang, 'citizen', 'renewal', '/portal/renewal');
    // A document's verification page (anyone may open it).
    await portal.goto(`${base}/portal/documents`);
    const verify = await portal.locator('a[href^="/verify/"]').first().getAttribute('href').catch(() => null);
    await portal.context().close();
    // The sign-in pages and the verify page, to anyone.
    const ctx = await browser.newContext();
    const anon = await ctx.newPage();
    await anon.goto(`${base}/lang/${lang}?back=/login`);
    await look(anon, lang, 'anyone', 'login');
    await look(anon, lang, 'anyone', 'portal-login', '/portal/login');
    if (verify) await look(anon, lang, 'anyone', 'verify', verify);
    await ctx.close();
    const dirty = seen.filter((s) => s.bad.length);
    assert.deepEqual(dirty.map((s) => `${s.file}: ${[...new Set(s.bad)].join(', ')}`), []);
  });
}
