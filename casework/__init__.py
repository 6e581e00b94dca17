"""Casework: the cross-department comparison's ledger and the early-warning alerts, worked by caseworkers."""
