"""Webhooks: subscriptions, signed deliveries with retries and their log, for the event kinds features raise."""
