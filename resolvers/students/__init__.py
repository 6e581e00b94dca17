"""Proactive student aid: who qualifies in a term, how a student is presented, and what changed."""
