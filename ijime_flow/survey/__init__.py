"""The national survey's bullying tables (the "annual return") computed from verified logs: :mod:`.annual` counts,
:mod:`.tables` renders them (Markdown, CSV, Excel)."""

from .annual import AnnualReturn, Category, RecognisedCase, SeriousIncident, Table, Unverified, annual_return

__all__ = ["AnnualReturn", "Category", "RecognisedCase", "SeriousIncident", "Table", "Unverified", "annual_return"]
