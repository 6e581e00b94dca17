"""Change notifications: webhook subscriptions, change detection over eligible students, signed deliveries."""
