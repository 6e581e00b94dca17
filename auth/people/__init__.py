"""People who sign in to the console: their table, passwords, second factor, sessions, sign-in, principal.

- `auth.people.tables`: `console_user`, `console_session`;
- `auth.people.passwords`: hashing, checking, one-time passwords, the rules a new password follows;
- `auth.people.totp`: RFC 6238 codes, the enrolment URI and QR code;
- `auth.people.users`: `User`, adding, listing, disabling and resetting people (audited);
- `auth.people.sessions`: server-side sessions and the signed cookie that names one;
- `auth.people.signin`: the sign-in steps (password, change, enrolment, code) with lockout and audit;
- `auth.people.principal`: a signed-in person as the access model sees them.
"""
