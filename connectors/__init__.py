"""The edges: source clients, sync, the scheduler daemon and the `catalog` CLI."""
