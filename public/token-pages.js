// Shared by the pages that e-mailed links open: they post the link's token with the form's fields.
const form = document.querySelector('form[data-endpoint]');
const status = document.getElementById('status');
const token = new URLSearchParams(location.search).get('token');

function show(text, kind) {
  status.textContent = text;
  status.className = kind;
}

if (!token) {
  show('This link has no token. Open the link from the e-mail again.', 'error');
  form.hidden = true;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { token, ...Object.fromEntries(new FormData(form)) };
  show('Working…', '');
  const response = await fetch(form.dataset.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.ok) {
    form.hidden = true;
    show('Done.', 'ok');
    return;
  }
  const problem = await response.json().catch(() => ({}));
  const fields = (problem.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
  show(fields || problem.detail || 'Something went wrong.', 'error');
});
