"""SQLAlchemy table of stored certificates (migration 0006)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.orchestrator.adapters.db.models import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CertificateRow(Base):
    """One certificate bundle. The `local` driver keeps the material here (the private key
    encrypted); the `barbican` driver keeps only the catalogue columns and the container href."""

    __tablename__ = "certificate"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    type: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(1024), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text, default="")
    intermediates_pem: Mapped[str] = mapped_column(Text, default="")
    private_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    crl_pem: Mapped[str] = mapped_column(Text, default="")
    hostnames: Mapped[str] = mapped_column(Text, default="[]")
    subject: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )
