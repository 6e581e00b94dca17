"""Registered operations (trusted documents): GraphQL operations a hub knows ahead, sent by their content hash.

- `registered.documents`: a file of operations as one document per operation, its id and its checks;
- `registered.tables`: the store's `registered_operation` table;
- `registered.operations`: adding, listing and removing them, each audited (the CLI and the console);
- `registered.served`: the ones a running hub serves, cached per worker and checked when it starts.
"""
