"""Tools around the hub, not part of it: the demo data generator and the throwaway PostgreSQL server."""
