"""The web app's shell. `layout` builds the page and wires events to the handlers, one module per tab (`ask`,
`datasets`, `workbench`, `audit`, and `session` for sign-in and language); handlers take the caller and plain
values, call `Services` use cases and render with `render` and `text`, so each is tested without a browser."""
