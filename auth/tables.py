"""The hub's own tables for access control: clients, signing keys, revoked tokens, policies, audit.

Declared on the store's one `metadata`, so the Alembic migrations and the migration test cover them.
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.base import metadata

_TIME = sa.DateTime(timezone=True)
_RATE_LIMIT_COMMENT = "requests per minute (per worker); null: the hub's default, 0: unlimited"
POLICY_STATUS_COMMENT = "draft, approved or withdrawn; the live version is the newest approved one"
BASED_ON_COMMENT = "the live version when the draft was made (null: none was live); approved only while it is"
_ROTATED_COMMENT = "when the secret was last replaced; tokens issued before it are refused"
DISCLOSURE_KEY_COMMENT = "audit_disclosure row holding the lists (then revealed, masked, withheld are empty)"

oauth_client = sa.Table(
    "oauth_client",
    metadata,
    sa.Column("client_id", sa.String(100), primary_key=True),
    sa.Column("department", sa.String(40), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False, comment="list of role names"),
    sa.Column("regions", sa.JSON, nullable=False, comment="list of division-code prefixes"),
    sa.Column("purposes", sa.JSON, nullable=False, comment="list of purpose codes the client may declare"),
    sa.Column("secret_hash", sa.String(300), nullable=False, comment="scrypt hash; the secret itself is never kept"),
    sa.Column("pseudonym_key", sa.String(64), nullable=False, comment="hex key of the client's HMAC pseudonyms"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("rate_limit", sa.Integer, nullable=True, comment=_RATE_LIMIT_COMMENT),
    sa.Column("secret_rotated_at", _TIME, nullable=True, comment=_ROTATED_COMMENT),
    sa.Column(
        "registered_only",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        comment="true: the client may send registered operations only (registered/)",
    ),
)

hub_secret = sa.Table(
    "hub_secret",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True, comment="e.g. signing-keys, audit-pseudonym-key"),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
)

revoked_token = sa.Table(
    "revoked_token",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(100), nullable=False),
    sa.Column("expires_at", _TIME, nullable=False, comment="after this the entry can be dropped"),
    sa.Column("revoked_at", _TIME, nullable=False),
)

policy_version = sa.Table(
    "policy_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", sa.Text, nullable=False, comment="the policy as applied (YAML)"),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("applied_by", sa.String(100), nullable=False, comment="who wrote it: the draft's author"),
    sa.Column("applied_at", _TIME, nullable=False, comment="when it was stored (as a draft, or approved at once)"),
    sa.Column("status", sa.String(10), nullable=False, comment=POLICY_STATUS_COMMENT),
    sa.Column("based_on", sa.Integer, nullable=True, comment=BASED_ON_COMMENT),
    sa.Column("reason", sa.String(500), nullable=True, comment="why it was made, in the author's words"),
    sa.Column("approved_by", sa.String(100), nullable=True, comment="who published it (four eyes: not the author)"),
    sa.Column("approved_at", _TIME, nullable=True),
    sa.Column("withdrawn_by", sa.String(100), nullable=True),
    sa.Column("withdrawn_at", _TIME, nullable=True),
)

# A read repeats the same ~100 field names for every request of one operation and access profile: they
# are stored once, under the digest of their content (auth/audit/profiles.py), and the event names it.
audit_disclosure = sa.Table(
    "audit_disclosure",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True, comment="sha256 hex of the three lists (canonical JSON)"),
    sa.Column("revealed", sa.JSON, nullable=False, comment="Type.field revealed unmasked"),
    sa.Column("masked", sa.JSON, nullable=False, comment="Type.field masked"),
    sa.Column("withheld", sa.JSON, nullable=False, comment="Type.field withheld"),
)

audit_event = sa.Table(
    "audit_event",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("at", _TIME, nullable=False),
    sa.Column("client_id", sa.String(100), nullable=True, comment="null when the caller was not identified"),
    sa.Column("actor", sa.String(100), nullable=True, comment="the person who acted (a command's --by), if one did"),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("purpose", sa.String(60), nullable=True),
    sa.Column("case_id", sa.String(100), nullable=True),
    sa.Column("operation", sa.String(200), nullable=True),
    sa.Column("document_hash", sa.String(80), nullable=True, comment="hmac-sha256:<hex>, document key (older: sha256)"),
    sa.Column("subjects", sa.JSON, nullable=False, comment="pseudonyms (hub audit key) of the residents returned"),
    sa.Column("revealed", sa.JSON, nullable=False, comment="Type.field revealed unmasked"),
    sa.Column("masked", sa.JSON, nullable=False, comment="Type.field masked"),
    sa.Column("withheld", sa.JSON, nullable=False, comment="Type.field withheld"),
    sa.Column(
        "disclosure_key",
        sa.String(64),
        sa.ForeignKey("audit_disclosure.key"),
        nullable=True,
        comment=DISCLOSURE_KEY_COMMENT,
    ),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("detail", sa.String(500), nullable=True),
    sa.Column("policy_version", sa.Integer, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # A client's newest event (its last use) and a search by client, without reading the whole trail.
    sa.Index("ix_audit_event_client_id_seq", "client_id", "seq"),
)

audit_subject = sa.Table(
    "audit_subject",
    metadata,
    sa.Column("subject", sa.String(80), primary_key=True, comment="pseudonym (hub audit key) of a resident id"),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
)
