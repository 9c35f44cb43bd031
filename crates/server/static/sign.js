// Officers sign with their own keys (issue 33): a form with data-sign-prepare asks the
// server for the document rendered for the officer's signature, asks the officer's signing
// application (NCALayer, or the demo's stand-in) for a detached CMS over its bytes through
// ncalayer-js-client, and submits the form with the draft and the signature. The server
// checks the signature before it accepts anything.
document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-sign-prepare]')) {
    form.addEventListener('submit', async (ev) => {
      if (form.dataset.signed === '1') return;
      ev.preventDefault();
      const status = form.querySelector('.sign-status');
      const button = form.querySelector('button[type=submit]');
      const say = (text, bad) => {
        if (!status) return;
        status.textContent = text;
        status.className = bad ? 'sign-status overdue' : 'sign-status';
      };
      button.disabled = true;
      try {
        say(status.dataset.preparing);
        // "form": the form itself answers what to sign (an intake's formulary); else the
        // address of the document rendered for signing.
        const r = form.dataset.signPrepare === 'form'
          ? await fetch(form.action, {
            method: 'POST',
            credentials: 'same-origin',
            body: new URLSearchParams([...new FormData(form), ['certify', 'prepare']]),
          })
          : await fetch(form.dataset.signPrepare, { method: 'POST', credentials: 'same-origin' });
        const p = await r.json();
        if (!r.ok) throw new Error(p.message || r.statusText);
        const client = new window.NCALayerClient(p.signer, false);
        try {
          await client.connect();
        } catch (e) {
          throw new Error(status.dataset.noSigner);
        }
        say(status.dataset.signing);
        const lang = document.documentElement.lang || 'ru';
        const signature = await client.basicsSignCMS(
          window.NCALayerClient.basicsStorageAll,
          p.data,
          window.NCALayerClient.basicsCMSParamsDetachedNoTSP,
          { extKeyUsageOids: ['1.3.6.1.5.5.7.3.4'], iin: p.iin, chain: [] },
          lang,
        );
        form.querySelector('input[name=draft]').value = p.draft || '';
        form.querySelector('input[name=signature]').value = signature;
        form.dataset.signed = '1';
        form.submit();
      } catch (e) {
        say(`${status.dataset.failed} ${e.message}`, true);
        button.disabled = false;
      }
    });
  }
});
