"""Synthetic Quanzhou demo data in every department's native CSV format (see generate())."""

from tools.demo.generate import ANNEX2, DEFAULT_HOUSEHOLDS, DemoSummary, generate

__all__ = ["ANNEX2", "DEFAULT_HOUSEHOLDS", "DemoSummary", "generate"]
