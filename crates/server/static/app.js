// The few behaviours that need a script (CSP forbids inline handlers).
document.addEventListener('DOMContentLoaded', () => {
  for (const b of document.querySelectorAll('[data-print]')) {
    b.addEventListener('click', () => window.print());
  }
});
