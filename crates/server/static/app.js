// The few behaviours that need a script (CSP forbids inline handlers).
document.addEventListener('DOMContentLoaded', () => {
  for (const b of document.querySelectorAll('[data-print]')) {
    b.addEventListener('click', () => window.print());
  }
  // /verify/{id}: compare a PDF the visitor holds with the registered one.
  const file = document.getElementById('verify-file');
  const out = document.getElementById('verify-result');
  if (file && out) {
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      try {
        const r = await fetch(file.dataset.verifyUrl, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: f });
        const v = await r.json();
        out.textContent = r.ok && v.valid ? out.dataset.ok : out.dataset.bad;
        out.className = r.ok && v.valid ? 'ok' : 'overdue';
      } catch (e) {
        out.textContent = out.dataset.bad;
        out.className = 'overdue';
      }
    });
  }
});
