// Runs graphql-http's server audits against a served hub and prints one JSON line per audit.
// AUDIT_URL is the hub's /graphql; AUDIT_TOKEN a bearer token, sent with every audit request
// (the hub answers nothing without one). The verdict is the pytest test's, not this script's.
import { serverAudits } from 'graphql-http';

const url = process.env.AUDIT_URL;
const token = process.env.AUDIT_TOKEN;
if (!url || !token) {
  console.error('audit.mjs: set AUDIT_URL and AUDIT_TOKEN');
  process.exit(2);
}

function withToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

for (const audit of serverAudits({ url, fetchFn: withToken })) {
  const result = await audit.fn();
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    const response = result.response;
    line.response = { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
  }
  console.log(JSON.stringify(line));
}
