"""Built-in ops, one module per family; each op is a Function plus its functional wrapper."""
