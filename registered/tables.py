"""The store's table of registered operations, one row per document (one named operation and its fragments)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.base import metadata

DOCUMENT_ID_LENGTH = len("sha256:") + 64

registered_operation = sa.Table(
    "registered_operation",
    metadata,
    sa.Column(
        "document_id", sa.String(DOCUMENT_ID_LENGTH), primary_key=True, comment="sha256:<hex of the text's UTF-8>"
    ),
    sa.Column("operation_name", sa.String(100), nullable=False, comment="the one operation the document holds"),
    sa.Column("operation_type", sa.String(20), nullable=False, comment="query or mutation"),
    sa.Column("document", sa.Text, nullable=False, comment="the text the id is the hash of, as served"),
    sa.Column(
        "client_id",
        sa.String(100),
        sa.ForeignKey("oauth_client.client_id"),
        nullable=True,
        comment="the only client that may use it; null: every client",
    ),
    sa.Column("added_by", sa.String(100), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)
