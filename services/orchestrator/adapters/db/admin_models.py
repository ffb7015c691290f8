"""SQLAlchemy tables of the operator-side resources: quotas, flavors, availability zones
(migration 0004; the amphora columns it added are on AmphoraRow in models.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.orchestrator.adapters.db.models import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Octavia's quota resources, in the order its API lists them.
QUOTA_RESOURCES = (
    "load_balancer",
    "listener",
    "pool",
    "health_monitor",
    "member",
    "l7policy",
    "l7rule",
)


class QuotaRow(Base):
    """One project's limits. NULL means "the configured default"; -1 means unlimited.

    The row doubles as the project's quota lock: every create locks it FOR UPDATE before it
    counts usage, so concurrent creates of one project are serialized on it."""

    __tablename__ = "quota"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    load_balancer: Mapped[int | None] = mapped_column(Integer)
    listener: Mapped[int | None] = mapped_column(Integer)
    pool: Mapped[int | None] = mapped_column(Integer)
    health_monitor: Mapped[int | None] = mapped_column(Integer)
    member: Mapped[int | None] = mapped_column(Integer)
    l7policy: Mapped[int | None] = mapped_column(Integer)
    l7rule: Mapped[int | None] = mapped_column(Integer)


class FlavorProfileRow(Base):
    __tablename__ = "flavor_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    flavor_data: Mapped[str] = mapped_column(Text)  # a JSON object, as given
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class FlavorRow(Base):
    __tablename__ = "flavor"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    flavor_profile_id: Mapped[str] = mapped_column(
        ForeignKey("flavor_profile.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class AvailabilityZoneProfileRow(Base):
    __tablename__ = "availability_zone_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    availability_zone_data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class AvailabilityZoneRow(Base):
    __tablename__ = "availability_zone"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_profile_id: Mapped[str] = mapped_column(
        ForeignKey("availability_zone_profile.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )
