"""Compiled plans: a registered query answered without graphql-core's per-field execution.

- `compiled.shape`: the operation's selection resolved once against the schema (which shapes it follows);
- `compiled.encoder`: one generated function per object selection, writing its scalars inline;
- `compiled.runner`: one request's following of a shape, through the executor's own resolvers;
- `compiled.plans`: the worker's plans, made once per operation, and the executor's fallback, counted.
"""
